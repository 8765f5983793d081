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
