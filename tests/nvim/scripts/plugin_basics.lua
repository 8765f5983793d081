-- No server needed: commands, setup() and its options, the help file and its tags.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local doc_copy = assert(arg[1], 'usage: plugin_basics.lua DOC_COPY_DIR')

H.load_plugin()
local commands = vim.tbl_keys(vim.api.nvim_get_commands({}))
table.sort(commands)
H.emit('commands_before_setup', vim.tbl_filter(function(c) return c:match('^Tether') end, commands))

-- A typo in an option is an error naming it; a bad value names the option too.
local ok, err = pcall(require('tether').setup, { pyhton = '/usr/bin/python3' })
H.emit('typo_error', not ok and tostring(err) or nil)
ok, err = pcall(require('tether').setup, { history = { diff = 'sideways' } })
H.emit('bad_value_error', not ok and tostring(err) or nil)

require('tether').setup({
  python = H.python,
  filetypes = { 'python', 'lua', 'go' },
  model = 'ollama:qwen',
})
require('tether').setup({
  python = H.python,
  filetypes = { 'python' },
  settings = { training = { max_steps = 2 } },
})
local cfg = vim.lsp.config.tether
H.emit('config', {
  cmd = cfg.cmd,
  filetypes = cfg.filetypes,
  init_options = cfg.init_options,
  settings = cfg.settings,
  enabled = vim.lsp.is_enabled('tether'),
  root_dir_is_function = type(cfg.root_dir) == 'function',
  handlers = vim.tbl_keys(cfg.handlers or {}),
})
H.emit('statusline_without_client', require('tether').statusline())

-- Commands run without a server give a clear error instead of a Lua traceback.
H.notifications = {}
vim.cmd('TetherHistory')
H.emit('history_without_server', H.notifications[1] and H.notifications[1].msg)

-- The help file: tags generate without errors, :help finds the entry points, and every
-- |link| in it resolves (to this file or to Neovim's own help).
vim.opt.rtp:append(doc_copy)
vim.cmd('helptags ' .. vim.fn.fnameescape(doc_copy .. '/doc'))
local opened = {}
local entry_points =
  { 'tether', 'tether.setup()', ':TetherTrain', ':TetherHistory', 'tether-health' }
for _, tag in ipairs(entry_points) do
  vim.cmd.help(tag)
  opened[tag] = vim.fn.expand('%:t') .. ':' .. vim.api.nvim_get_current_line()
  vim.cmd('helpclose')
end
H.emit('help_opened', opened)
local text = table.concat(vim.fn.readfile(doc_copy .. '/doc/tether.txt'), '\n')
local broken = {}
local seen = {}
for link in text:gmatch('|([^|%s]+)|') do
  if not seen[link] then
    seen[link] = true
    local good = pcall(vim.cmd.help, link)
    if good then
      vim.cmd('helpclose')
    else
      broken[#broken + 1] = link
    end
  end
end
H.emit('links_checked', vim.tbl_count(seen))
H.emit('broken_links', broken)

-- :checkhealth names what is wrong: an interpreter that does not exist, one without the
-- tether package (arg[2], an interpreter without it), a replay file that is missing.
local function health_with(opts)
  require('tether').setup(opts)
  vim.cmd('checkhealth tether')
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd('bwipeout')
  return lines
end
H.emit('health_missing_python', health_with({ python = '/nonexistent/bin/python' }))
H.emit('health_no_package', health_with({ python = assert(arg[2], 'no bare interpreter') }))
H.emit('health_missing_replay', health_with({ python = H.python, model = 'replay:/nonexistent.jsonl' }))
H.done()
