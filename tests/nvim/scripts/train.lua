-- :TetherTrain on a store that already holds decisions: LSP progress (begin, report, end)
-- shows in the echo area and the statusline, the tether/trainingStatus notifications
-- arrive, and the run ends with a new adapter. Arg: a file of the workspace to open.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local file = assert(arg[1], 'usage: train.lua FILE')

-- One short step: the test is about the editor's side of a real run, not about learning.
H.setup({ settings = { training = { max_steps = 1, batch_size = 2, max_length = 128 } } })
local progress, statuses, statuslines = {}, {}, {}
local started = vim.uv.hrtime()
vim.api.nvim_create_autocmd('User', {
  pattern = 'TetherProgress',
  callback = function(ev)
    local v = ev.data.value
    table.insert(progress, {
      kind = v.kind,
      title = v.title,
      message = v.message,
      percentage = v.percentage,
      ms = math.floor((vim.uv.hrtime() - started) / 1e6),
    })
    table.insert(statuslines, require('tether').statusline())
  end,
})
vim.api.nvim_create_autocmd('User', {
  pattern = 'TetherTrainingStatus',
  callback = function(ev)
    table.insert(statuses, ev.data)
  end,
})
H.open(file)

vim.cmd('TetherTrain')
H.wait(170000, function()
  local last = statuses[#statuses]
  return #statuses > 1 and last.state == 'idle' and type(last.lastResult) == 'table'
end, 'the training run to end')
-- The progress bar ends right after the final status.
H.wait(10000, function()
  return progress[#progress] and progress[#progress].kind == 'end'
end, 'the end of the progress bar')

local result = statuses[#statuses].lastResult
H.emit('progress', progress)
H.emit('statuslines', statuslines)
H.emit('states', vim.tbl_map(function(s)
  return s.state
end, statuses))
H.emit('result', { status = result.status, version = result.version, reason = result.reason })
H.emit('notifications', vim.tbl_map(function(n)
  return n.msg
end, H.notifications))
H.emit('statusline_after', require('tether').statusline())

vim.cmd('TetherProfile')
H.wait(10000, function()
  return vim.bo.filetype == 'tetherprofile'
end, 'the profile window')
H.emit('profile', vim.api.nvim_buf_get_lines(0, 0, -1, false))
H.done()
