-- Living tether in Neovim: production decisions (made through `tether serve`) listed by
-- :TetherReview, expanded to their diff, confirmed with `c`; another reviewed from
-- :TetherHistory with `R` (vim.ui.select: overturn); the profile's tally afterwards.
-- Arg: the Python file to open.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local file = assert(arg[1], 'usage: review.lua FILE')

H.setup({})
local events = {}
vim.api.nvim_create_autocmd('User', {
  pattern = {
    'TetherReviewShown',
    'TetherReviewExpanded',
    'TetherProductionReviewed',
    'TetherHistoryShown',
    'TetherProfileShown',
  },
  callback = function(ev)
    events[ev.match] = (events[ev.match] or 0) + 1
  end,
})
local function count(name)
  return events[name] or 0
end
H.open(file)

vim.cmd('TetherReview')
H.wait(15000, function()
  return count('TetherReviewShown') == 1
end, 'the review window')
local review = require('tether.review').view
H.emit('review_lines', vim.api.nvim_buf_get_lines(review.buf, 0, -1, false))
H.emit('review_floating', vim.api.nvim_win_get_config(review.win).relative ~= '')

-- the cursor starts on the first item (the newest pending one): its details and diff
vim.api.nvim_feedkeys(vim.keycode('<Tab>'), 'x', false)
H.wait(15000, function()
  return count('TetherReviewExpanded') == 1
end, 'the production decision diff')
H.emit('expanded_lines', vim.api.nvim_buf_get_lines(review.buf, 0, -1, false))

vim.api.nvim_feedkeys('c', 'x', false)
H.wait(15000, function()
  return count('TetherProductionReviewed') == 1 and count('TetherReviewShown') == 2
end, 'the confirm to be recorded and the list to refresh')
H.emit('after_confirm', vim.api.nvim_buf_get_lines(review.buf, 0, -1, false))
H.emit('confirm_notice', (H.notified('production decision #%d+ confirmed') or {}).msg)
vim.cmd('close')

-- the other one, from the history: R on its row, overturn chosen in vim.ui.select
H.stub_select(H.by_label('^overturn'))
H.stub_input('it breaks the callers')
vim.cmd('TetherHistory')
H.wait(15000, function()
  return count('TetherHistoryShown') >= 1
end, 'the history window')
local view = require('tether.history').view
local target
for i, item in ipairs(view.items) do
  if item.outcome == 'production' and item.seq == tonumber(arg[2]) then
    target = i
  end
end
H.check(target, 'no pending production row in the history')
vim.api.nvim_win_set_cursor(view.win, { view.first_row + target - 1, 0 })
vim.api.nvim_feedkeys('R', 'x', false)
H.wait(15000, function()
  return count('TetherProductionReviewed') == 2
end, 'the overturn to be recorded')
H.emit('select', H.selects[#H.selects])
H.emit('inputs', H.inputs)
vim.cmd('close')

vim.cmd('TetherProfile')
H.wait(15000, function()
  return count('TetherProfileShown') == 1
end, 'the profile window')
H.emit('profile', vim.api.nvim_buf_get_lines(0, 0, -1, false))
vim.cmd('close')

-- :checkhealth tether lists the students this machine can run, as model values
vim.cmd('checkhealth tether')
H.emit('health', vim.api.nvim_buf_get_lines(0, 0, -1, false))
H.done()
