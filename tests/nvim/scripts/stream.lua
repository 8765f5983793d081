-- The model's answer streams into Neovim's progress display: `$/progress` reports (fired
-- as TetherProgress) carry the answer so far, and the echo area shows the line being
-- written, one line (a multi-line echo would stop on a hit-enter prompt).
-- Arg: the Python file to open.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local file = assert(arg[1], 'usage: stream.lua FILE')

H.setup({})
local reports, echoes, ended = {}, {}, false
vim.api.nvim_create_autocmd('User', {
  pattern = 'TetherProgress',
  callback = function(ev)
    local value = ev.data.value
    if value.kind == 'report' and value.message then
      reports[#reports + 1] = value.message
    elseif value.kind == 'end' then
      ended = true
    end
  end,
})
local echo = vim.api.nvim_echo
vim.api.nvim_echo = function(chunks, history, opts)
  for _, chunk in ipairs(chunks) do
    echoes[#echoes + 1] = chunk[1]
  end
  return echo(chunks, history, opts)
end

local buf = H.open(file)
vim.cmd('1,5TetherAsk use the built-in sum')
H.wait(30000, function()
  return ended and #H.proposals(buf) == 1
end, 'a proposal, and the end of its progress')
vim.api.nvim_echo = echo
H.emit('stream', { reports = reports, echoes = echoes, echospace = vim.v.echospace })
H.done()
