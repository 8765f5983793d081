-- Issue 18 in Neovim: helptags from setup(); :TetherAsk through vim.ui.input; an error in
-- the server's words with its actions (Retry); Refine… as a code action; :TetherRegenerate;
-- the statusline redrawn when a decision removes a proposal; :TetherHistory sized to a
-- screen, a row expanded to its details and diff. Arg: the Python file to open.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local file = assert(arg[1], 'usage: ask_refine.lua FILE')

H.setup({}) -- (a headless grid cannot be resized: the screen is Neovim's 80x24)
H.emit('helptags', {
  tags = vim.fn.filereadable(H.plugin_dir .. '/doc/tags') == 1,
  help = pcall(vim.cmd.help, 'tether'),
  ask_help = pcall(vim.cmd.help, ':TetherAsk'),
})
pcall(vim.cmd.helpclose)

local outcomes = {}
vim.api.nvim_create_autocmd('User', {
  pattern = 'TetherDecisionRecorded',
  callback = function(ev)
    outcomes[#outcomes + 1] = ev.data.outcome
  end,
})
-- the statusline as a user has it; remember what it last drew
_G.tether_drawn = nil
function _G.TetherSL()
  _G.tether_drawn = require('tether').statusline()
  return _G.tether_drawn
end
vim.o.laststatus = 2
vim.o.statusline = '%!v:lua.TetherSL()'

local buf = H.open(file)

-- 1. :TetherAsk with no words asks for them; the first answer is prose: an error in the
--    server's words, whose actions are offered; Retry gets the next answer.
H.stub_input('use the built-in sum')
H.stub_select(H.by_label('^Retry$'))
vim.cmd('1,5TetherAsk')
H.wait(30000, function()
  return #H.proposals(buf) == 1
end, 'a proposal after Retry', { errors_ok = true })
local err = H.notified('^Tether: No suggestion')
H.emit('ask', {
  inputs = H.inputs,
  error = err and err.msg,
  error_menu = H.selects[1],
})
local first = require('tether.proposals').id_of(H.proposals(buf)[1])
H.errors_seen = #vim.tbl_filter(function(n)
  return n.level >= vim.log.levels.ERROR
end, H.notifications)

-- 2. Refine… as a code action: the words come from vim.ui.input.
H.stub_input('keep the loop, just use +=')
vim.api.nvim_win_set_cursor(0, { H.proposals(buf)[1].lnum + 1, 0 })
vim.lsp.buf.code_action({
  filter = function(a)
    return a.title == 'Tether: Refine…'
  end,
  apply = true,
})
H.wait(30000, function()
  local ps = H.proposals(buf)
  return #ps == 1 and require('tether.proposals').id_of(ps[1]) ~= first
end, 'the refined proposal')
local second = require('tether.proposals').id_of(H.proposals(buf)[1])

-- 3. :TetherRegenerate on the refined one.
vim.api.nvim_win_set_cursor(0, { H.proposals(buf)[1].lnum + 1, 0 })
vim.cmd('TetherRegenerate')
H.wait(30000, function()
  local ps = H.proposals(buf)
  return #ps == 1 and require('tether.proposals').id_of(ps[1]) ~= second
end, 'the regenerated proposal')
local third = require('tether.proposals').id_of(H.proposals(buf)[1])
H.emit('ids', { first = first, second = second, third = third })

-- 4. Accept it: the statusline is redrawn without anything else happening.
vim.cmd('redrawstatus!')
H.check(_G.tether_drawn == 'Tether: 1 pending', 'statusline before: ' .. tostring(_G.tether_drawn))
vim.api.nvim_win_set_cursor(0, { H.proposals(buf)[1].lnum + 1, 0 })
vim.cmd('TetherAccept')
H.wait(20000, function()
  return _G.tether_drawn == 'Tether'
end, 'the statusline to drop the pending proposal')
H.emit('statusline', _G.tether_drawn)

-- 5. :TetherHistory fits the 180x48 screen; <Tab> shows a row's details and diff.
local shown = 0
vim.api.nvim_create_autocmd('User', {
  pattern = { 'TetherHistoryShown', 'TetherHistoryExpanded' },
  callback = function(ev)
    shown = shown + 1
    H.emit('event_' .. ev.match, true)
  end,
})
vim.cmd('TetherHistory')
H.wait(10000, function()
  return shown > 0
end, 'the history window')
local view = require('tether.history').view
local cfg = vim.api.nvim_win_get_config(view.win)
local size = {
  width = cfg.width, height = cfg.height, rows = #view.items,
  columns = vim.o.columns, lines = vim.o.lines,
}
local row
for i, item in ipairs(view.items) do
  if item.outcome == 'rejected' and item.reason then
    row = i
  end
end
H.check(row, 'no rejected row with a reason in the history')
vim.api.nvim_win_set_cursor(view.win, { view.first_row + row - 1, 0 })
vim.api.nvim_feedkeys(vim.keycode('<Tab>'), 'x', false)
H.wait(10000, function()
  local lines = vim.api.nvim_buf_get_lines(view.buf, 0, -1, false)
  for _, l in ipairs(lines) do
    if l:match('^%s+%+') then
      return true
    end
  end
end, 'the expanded row with its diff')
H.emit('history', {
  size = size,
  lines = vim.api.nvim_buf_get_lines(view.buf, 0, -1, false),
  height_after = vim.api.nvim_win_get_config(view.win).height,
})
H.done()
