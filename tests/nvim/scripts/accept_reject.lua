-- Proposals end to end: ask through a code action, accept through a code action (the buffer
-- changes), reject with a reason (command and code action), the pending list, and an
-- approval prompt answered through vim.ui.select. Arg: the Python file to open.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local file = assert(arg[1], 'usage: accept_reject.lua FILE')

H.setup({})
H.stub_select(H.by_label('^Approve$'))
H.stub_input('too wordy')
local decisions = {}
local decisions_by_id = {} -- proposals that got a verdict (their diagnostics must go)
vim.api.nvim_create_autocmd('User', {
  pattern = 'TetherDecisionRecorded',
  callback = function(ev)
    table.insert(decisions, ev.data)
    if ev.data.outcome ~= 'proposed' and ev.data.proposalId then
      decisions_by_id[ev.data.proposalId] = ev.data.outcome
    end
  end,
})
local function decided(outcome, id)
  for _, d in ipairs(decisions) do
    if d.outcome == outcome and (id == nil or d.proposalId == id) then
      return d
    end
  end
end
local function title_is(prefix)
  return function(action)
    return vim.startswith(action.title, prefix)
  end
end
local function only_proposal(buf, what)
  H.wait(30000, function()
    local shown = H.proposals(buf)
    return #shown == 1 and not decisions_by_id[require('tether.proposals').id_of(shown[1])]
  end, what)
  local d = H.proposals(buf)[1]
  return d, require('tether.proposals').id_of(d)
end

local buf = H.open(file)
H.emit('keymap_accept', vim.fn.maparg('<leader>ta', 'n', false, true).desc)

-- 1. Ask for a suggestion: the "Tether: Improve" code action on the first function.
vim.lsp.buf.code_action({
  range = { start = { 1, 0 }, ['end'] = { 5, 0 } },
  filter = title_is('Tether: Improve'),
  apply = true,
})
local diag, id = only_proposal(buf, 'the Improve proposal as a diagnostic')
H.emit('proposal', {
  id = id,
  message = diag.message,
  lnum = diag.lnum,
  severity = diag.severity,
  statusline = require('tether').statusline(),
})

-- 2. Accept it through its code action: the server sends workspace/applyEdit.
vim.api.nvim_win_set_cursor(0, { diag.lnum + 1, 0 })
vim.lsp.buf.code_action({ filter = title_is('Tether: Accept —'), apply = true })
H.wait(20000, function()
  return decided('accepted', id) ~= nil
end, 'the accepted decision')
H.wait(5000, function()
  return #H.proposals(buf) == 0
end, 'the accepted proposal to leave the diagnostics')
H.emit('accepted', { id = id, text = H.text(buf), modified = vim.bo[buf].modified })

-- 3. A second proposal through :TetherPropose; it shows in :TetherPending; reject it with a
-- reason through :TetherReject.
local count_at = H.line_of(buf, '^def count')
vim.cmd(('%d,%dTetherPropose document'):format(count_at, count_at + 1))
diag, id = only_proposal(buf, 'the Document proposal')
H.emit('pending_count', require('tether').pending())
local qf = vim.fn.getqflist({ title = 1, items = 1 })
H.emit('pending', {
  title = qf.title,
  text = qf.items[1] and qf.items[1].text,
  lnum = qf.items[1] and qf.items[1].lnum,
  bufname = qf.items[1] and vim.api.nvim_buf_get_name(qf.items[1].bufnr),
})
vim.cmd('cclose')
vim.api.nvim_set_current_buf(buf)
vim.api.nvim_win_set_cursor(0, { diag.lnum + 1, 0 })
vim.cmd('TetherReject it says nothing new')
H.wait(20000, function()
  return decided('rejected', id) ~= nil
end, 'the rejection')
H.wait(5000, function()
  return #H.proposals(buf) == 0
end, 'the rejected proposal to leave the diagnostics')
H.emit('rejected_by_command', { id = id, reason = decided('rejected', id).reason })

-- 4. Once more, rejected through "Reject with reason…": the reason comes from vim.ui.input.
vim.lsp.buf.code_action({
  range = { start = { count_at, 0 }, ['end'] = { count_at + 1, 0 } },
  filter = title_is('Tether: Document'),
  apply = true,
})
diag, id = only_proposal(buf, 'the second Document proposal')
vim.api.nvim_win_set_cursor(0, { diag.lnum + 1, 0 })
vim.lsp.buf.code_action({ filter = title_is('Tether: Reject with reason'), apply = true })
H.wait(20000, function()
  return decided('rejected', id) ~= nil
end, 'the rejection with a reason')
H.emit('rejected_by_action', {
  id = id,
  reason = decided('rejected', id).reason,
  inputs = H.inputs,
})

-- 5. A risky change (a public signature): the server asks with window/showMessageRequest,
-- which Neovim shows through vim.ui.select; the stub answers Approve.
local label_at = H.line_of(buf, '^def label')
vim.lsp.buf.code_action({
  range = { start = { label_at, 0 }, ['end'] = { label_at + 1, 0 } },
  filter = title_is('Tether: Improve'),
  apply = true,
})
H.wait(30000, function()
  return #H.selects > 0
end, 'the approval prompt')
H.wait(20000, function()
  return #vim.tbl_filter(function(d)
    return d.outcome == 'accepted'
  end, decisions) == 2
end, 'the approved proposal to be accepted')
H.emit('approval', { prompt = H.selects[1], text = H.text(buf) })

-- 6. A proposal with two hunks, in another file of the workspace: accept only the second
-- with :TetherAccept 2 (hunk numbers start at 1, as in the code action titles).
local report = H.open(vim.fs.joinpath(vim.fs.dirname(file), 'report.py'))
vim.cmd('%TetherPropose improve')
diag, id = only_proposal(report, 'the two-hunk proposal')
vim.api.nvim_win_set_cursor(0, { diag.lnum + 1, 0 })
vim.cmd('TetherAccept 2')
H.wait(20000, function()
  return decided('partly_accepted', id) ~= nil
end, 'the partial accept')
H.emit('partial', { id = id, text = H.text(report), hunks = decided('partly_accepted', id).hunks })
H.emit('decisions', vim.tbl_map(function(d)
  return { outcome = d.outcome, proposal_id = d.proposalId, reason = d.reason, actor = d.actor }
end, decisions))
H.done()
