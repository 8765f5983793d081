-- The windows: after a proposal accepted with :TetherAccept, :TetherHistory lists it and
-- <CR> opens its diff in a split; :TetherProfile; :TetherVerify; :checkhealth tether with
-- the server attached. Arg: the Python file to open.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local file = assert(arg[1], 'usage: views.lua FILE')

H.setup({})
local events = {}
vim.api.nvim_create_autocmd('User', {
  pattern = {
    'TetherDecisionRecorded',
    'TetherHistoryShown',
    'TetherDiffShown',
    'TetherProfileShown',
  },
  callback = function(ev)
    events[ev.match] = (events[ev.match] or 0) + 1
    if ev.match == 'TetherDecisionRecorded' then
      events.last_outcome = ev.data.outcome
    end
  end,
})
local buf = H.open(file)
local original_text = H.text(buf)

-- A decision to look at: propose with the command, accept with the command.
vim.cmd('1,5TetherPropose improve')
H.wait(30000, function()
  return #H.proposals(buf) == 1
end, 'a proposal')
vim.api.nvim_win_set_cursor(0, { H.proposals(buf)[1].lnum + 1, 0 })

-- The "Show diff" code action opens the diff in a split (a client-side command).
vim.lsp.buf.code_action({
  filter = function(a)
    return a.title == 'Tether: Show diff'
  end,
  apply = true,
})
H.wait(10000, function()
  return (events.TetherDiffShown or 0) == 1
end, 'the diff of the pending proposal')
H.emit('pending_diff', {
  lines = vim.api.nvim_buf_get_lines(0, 0, -1, false),
  windows = #vim.api.nvim_tabpage_list_wins(0),
})
vim.cmd('close')
H.check(vim.api.nvim_get_current_buf() == buf, 'closing the diff did not return to the file')

vim.cmd('TetherAccept')
H.wait(20000, function()
  return events.last_outcome == 'accepted' and H.text(buf) ~= original_text
end, 'the accepted proposal to change the buffer')
H.emit('accepted_text', H.text(buf))

-- :TetherHistory: a floating window with the decision table.
vim.cmd('TetherHistory')
H.wait(10000, function()
  return (events.TetherHistoryShown or 0) > 0
end, 'the history window')
local view = require('tether.history').view
H.emit('history', {
  lines = vim.api.nvim_buf_get_lines(view.buf, 0, -1, false),
  floating = vim.api.nvim_win_get_config(view.win).relative ~= '',
  total = view.total,
})
local row
for i, item in ipairs(view.items) do
  if item.outcome == 'accepted' then
    row = i
  end
end
H.check(row, 'no accepted row in the history')
vim.api.nvim_win_set_cursor(view.win, { view.first_row + row - 1, 0 })
vim.api.nvim_feedkeys(vim.keycode('<CR>'), 'x', false)
H.wait(10000, function()
  return (events.TetherDiffShown or 0) == 2
end, 'the diff split')
local diff_win = vim.api.nvim_get_current_win()
H.emit('diff', {
  lines = vim.api.nvim_buf_get_lines(0, 0, -1, false),
  filetype = vim.bo.filetype,
  floating = vim.api.nvim_win_get_config(diff_win).relative ~= '',
  windows = #vim.api.nvim_tabpage_list_wins(0),
  history_closed = not vim.api.nvim_win_is_valid(view.win),
})
vim.cmd('close')

-- :TetherProfile: the class the decision fell in.
vim.cmd('TetherProfile')
H.wait(10000, function()
  return (events.TetherProfileShown or 0) > 0
end, 'the profile window')
H.emit('profile', {
  lines = vim.api.nvim_buf_get_lines(0, 0, -1, false),
  floating = vim.api.nvim_win_get_config(0).relative ~= '',
})
vim.cmd('close')

-- :TetherVerify: the chain of this session's decisions is intact.
vim.cmd('TetherVerify')
H.wait(10000, function()
  return H.notified('chain') ~= nil
end, 'the verify result')
H.emit('verify', H.notified('chain').msg)

-- :checkhealth tether, with the client running.
vim.cmd('checkhealth tether')
H.emit('health', vim.api.nvim_buf_get_lines(0, 0, -1, false))
H.done()
