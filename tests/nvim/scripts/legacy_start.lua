-- The Neovim 0.10 code path (no vim.lsp.config / vim.lsp.enable): setup() falls back to a
-- FileType autocommand calling vim.lsp.start. Hidden here on 0.11 to exercise it; a file
-- opened before setup() attaches too. Arg: the Python file to open.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local file = assert(arg[1], 'usage: legacy_start.lua FILE')

vim.lsp.enable = nil
vim.cmd.edit(vim.fn.fnameescape(file)) -- already open when setup() runs
local first = vim.api.nvim_get_current_buf()
H.setup({ filetypes = { 'python' } })
H.wait(60000, function()
  local c = vim.lsp.get_clients({ name = 'tether', bufnr = first })[1]
  return c and c.initialized
end, 'the client to attach to the buffer opened before setup()')

-- A second file of the same workspace reuses the client; a non-Python buffer gets none.
local other = vim.fs.joinpath(vim.fs.dirname(file), 'other.py')
vim.fn.writefile({ 'x = 1' }, other)
local second = H.open(other)
vim.cmd.edit(vim.fn.fnameescape(vim.fs.joinpath(vim.fs.dirname(file), 'notes.txt')))
local text_buf = vim.api.nvim_get_current_buf()

local client = vim.lsp.get_clients({ name = 'tether' })[1]
H.emit('legacy', {
  clients = #vim.lsp.get_clients({ name = 'tether' }),
  root_dir = client.root_dir,
  both_attached = client.attached_buffers[first] == true
    and client.attached_buffers[second] == true,
  text_attached = #vim.lsp.get_clients({ name = 'tether', bufnr = text_buf }) > 0,
  cmd = client.config.cmd,
})
-- The server answers through this client.
vim.cmd('buffer ' .. first)
vim.cmd('TetherVerify')
H.wait(10000, function()
  return H.notified('chain OK') ~= nil
end, 'the verify answer')
H.done()
