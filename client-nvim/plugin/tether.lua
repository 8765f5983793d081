-- Tether's user commands (they load the rest of the plugin only when run). The language
-- server itself is registered by require('tether').setup(); see :help tether-setup.
if vim.g.loaded_tether == 1 then
  return
end
vim.g.loaded_tether = 1

require('tether.commands').register()
