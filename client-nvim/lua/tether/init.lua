--- Tether for Neovim: the learning coding agent through the built-in LSP client.
---
--- `require('tether').setup(opts)` registers the server; everything else here is the API
--- behind the :Tether* commands, usable from mappings and user code too. See :help tether.
local M = {}

--- Register the language server with Neovim (call once, from init.lua or lazy.nvim `opts`).
--- @param opts tether.Options?
function M.setup(opts)
  require('tether.config').set(opts)
  require('tether.commands').register()
  require('tether.lsp').register()
  M.helptags()
end

--- Generate the help tags when they are missing, so :help tether works with a plain
--- 'runtimepath' set-up (plugin managers do this themselves; a bare rtp:append does not).
--- @return boolean generated
function M.helptags()
  local source = debug.getinfo(1, 'S').source:sub(2)
  local doc = vim.fs.joinpath(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(source))), 'doc')
  if vim.fn.isdirectory(doc) == 0 or vim.fn.filereadable(vim.fs.joinpath(doc, 'tags')) == 1 then
    return false
  end
  return (pcall(vim.cmd.helptags, vim.fn.fnameescape(doc)))
end

--- :TetherAsk: a request in your own words on rows of the buffer (0-based, end exclusive);
--- without an instruction it asks for one (vim.ui.input).
--- @param opts? { instruction: string?, start_row: integer?, end_row: integer?, on_done: fun(result: any)? }
function M.ask(opts)
  require('tether.proposals').ask(opts)
end

--- :TetherRegenerate: another answer instead of the proposal under the cursor.
--- @param opts? { id: string?, on_done: fun(result: any)? }
function M.regenerate(opts)
  require('tether.proposals').replace(vim.tbl_extend('force', opts or {}, { refine = false }))
end

--- :TetherRefine: say what should change; the words are the replaced proposal's reason.
--- @param opts? { id: string?, instruction: string?, on_done: fun(result: any)? }
function M.refine(opts)
  require('tether.proposals').replace(vim.tbl_extend('force', opts or {}, { refine = true }))
end

--- Statusline component: training progress, else the pending proposals in this buffer.
--- @return string
function M.statusline()
  return require('tether.status').statusline()
end

--- The argument naming the current buffer's workspace (the server serves several folders).
--- @return table
function M.workspace_arg()
  local name = vim.api.nvim_buf_get_name(0)
  if name == '' or vim.bo.buftype ~= '' then
    return vim.empty_dict()
  end
  return { uri = vim.uri_from_bufnr(0) }
end

--- :TetherTrain: train an adapter now; progress arrives as LSP progress.
--- @param opts? { on_done: fun(result: any)? }
function M.train(opts)
  opts = opts or {}
  local client_mod = require('tether.client')
  local client = client_mod.require_client()
  if not client then
    return
  end
  client_mod.exec(client, 'tether.trainNow', M.workspace_arg(), function(result)
    client_mod.notify('training started; progress shows in the statusline')
    if opts.on_done then
      opts.on_done(result)
    end
  end)
end

--- Cancel a running training job.
function M.cancel_training()
  local client_mod = require('tether.client')
  local client = client_mod.require_client()
  if client then
    client_mod.exec(client, 'tether.cancelTraining', M.workspace_arg(), function(result)
      local cancelled = type(result) == 'table' and result.cancelled
      client_mod.notify(cancelled and 'training cancelled' or 'no training is running')
    end)
  end
end

--- :TetherHistory: the decision table in a floating window.
--- @param opts? { search: string?, filter: table? }
function M.history(opts)
  require('tether.history').open(opts)
end

--- :TetherReview: production decisions (made through `tether serve`) awaiting review.
function M.review()
  require('tether.review').open()
end

--- :TetherProfile: the learnt profile and the adapters.
function M.profile()
  require('tether.profile').open()
end

--- :TetherAccept: accept the proposal under the cursor (`hunks`: 0-based indices).
--- @param opts? { id: string?, hunks: integer[]?, on_done: fun(result: any)? }
function M.accept(opts)
  require('tether.proposals').accept(opts)
end

--- :TetherReject: reject the proposal under the cursor.
--- @param opts? { id: string?, reason: string?, on_done: fun(result: any)? }
function M.reject(opts)
  require('tether.proposals').reject(opts)
end

--- :TetherPending: pending proposals in the quickfix list.
function M.pending()
  return require('tether.proposals').pending()
end

--- :TetherPropose: ask the agent for a proposal on a range with a task.
--- @param opts { task: string, start_row: integer?, end_row: integer?, on_done: fun(result: any)? }
function M.propose(opts)
  require('tether.proposals').propose(opts)
end

--- :TetherDiff: the diff of the proposal under the cursor.
--- @param opts? { id: string?, style: ('unified'|'split')? }
function M.diff(opts)
  opts = opts or {}
  local id = opts.id or require('tether.proposals').id_at_cursor()
  if id then
    require('tether.diff').show_proposal(id, { style = opts.style })
  end
end

--- Pin a decision class (`mode`: always_ask or never_auto; nil removes the pin).
--- @param class_key string
--- @param mode string?
function M.pin(class_key, mode)
  local client_mod = require('tether.client')
  local client = client_mod.require_client()
  if client then
    local argument = { classKey = class_key, mode = mode or vim.NIL }
    client_mod.exec(client, 'tether.pin', argument, function()
      local text = mode and ('%s pinned: %s'):format(class_key, mode)
        or ('%s unpinned'):format(class_key)
      client_mod.notify(text)
    end)
  end
end

--- :TetherVerify: recompute the decision log's hash chain.
--- @param opts? { on_done: fun(result: any)? }
function M.verify(opts)
  opts = opts or {}
  local client_mod = require('tether.client')
  local client = client_mod.require_client()
  if not client then
    return
  end
  client_mod.exec(client, 'tether.verify', M.workspace_arg(), function(result)
    result = type(result) == 'table' and result or {}
    local ok = result.ok
    local text = result.summary or result.message
    if not text then
      if ok then
        text = ('chain OK: %s decisions'):format(result.rows or '?')
      else
        text = ('chain BROKEN at row %s: %s'):format(
          tostring(result.first_broken_seq or result.firstBrokenSeq or '?'),
          tostring(result.detail or result.kind or '?')
        )
      end
    end
    client_mod.notify(text, ok and vim.log.levels.INFO or vim.log.levels.ERROR)
    if opts.on_done then
      opts.on_done(result)
    end
  end)
end

return M
