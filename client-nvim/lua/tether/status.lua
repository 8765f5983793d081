--- What the server is doing: LSP work-done progress, training status and the last decision.
---
--- Progress arrives through Neovim's own `$/progress` handler (which fires `LspProgress`);
--- Tether's own notifications come through the handlers below. Each update fires a `User`
--- autocommand (TetherProgress, TetherTrainingStatus, TetherDecisionRecorded) so statuslines
--- and user code can react without polling.
local config = require('tether.config')

local M = {}

--- Work-done progress per token: { title, message, percentage, done }.
--- @type table<string, { title: string?, message: string?, percentage: integer?, done: boolean }>
M.progress = {}
--- The latest tether/trainingStatus payload.
M.training = nil
--- The latest tether/decisionRecorded payload.
M.last_decision = nil

local function is_tether(client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.name == require('tether.client').name
end

--- Longest line of a partial answer shown in the echo area and statusline.
M.max_partial_line = 80

--- The model's answer so far (a suggestion's `$/progress` reports carry all of it, several
--- lines) as one line: "line 7: return total", the line being written (code fences and
--- blank lines skipped). A message of one line is returned as it is.
--- @param text string
--- @return string
function M.partial_line(text)
  if not text:find('\n') then
    return text
  end
  local count, last = 0, ''
  for line in vim.gsplit(text, '\n', { plain = true }) do
    local trimmed = vim.trim(line)
    if trimmed ~= '' and not trimmed:match('^```') and not trimmed:match('^~~~') then
      count = count + 1
      last = trimmed
    end
  end
  if last == '' then
    return 'writing…'
  end
  if vim.fn.strchars(last) > M.max_partial_line then
    last = vim.fn.strcharpart(last, 0, M.max_partial_line - 1) .. '…'
  end
  return ('line %d: %s'):format(count, last)
end

--- `text` cut to `width` display cells (with "…"): an echo longer than the echo area would
--- stop on a hit-enter prompt, on every progress report.
--- @param text string
--- @param width integer
--- @return string
function M.fit(text, width)
  if width < 2 or vim.fn.strdisplaywidth(text) <= width then
    return text
  end
  local cut = text
  while vim.fn.strdisplaywidth(cut) > width - 1 do
    cut = vim.fn.strcharpart(cut, 0, vim.fn.strchars(cut) - 1)
  end
  return cut .. '…'
end

--- "Tether: <title> <message> (<n>%)" (the server's titles may already say Tether, and its
--- messages may start with the title again).
local function progress_text(p)
  local title = (p.title or 'working'):gsub('^Tether:%s*', '')
  local message = M.partial_line(p.message or '')
  local parts = {}
  if message:lower():sub(1, #title) == title:lower() then
    parts[1] = 'Tether: ' .. message
  else
    parts[1] = 'Tether: ' .. title
    if message ~= '' then
      parts[2] = message
    end
  end
  if p.percentage and not p.done then
    parts[#parts + 1] = ('(%d%%)'):format(p.percentage)
  end
  return table.concat(parts, ' ')
end

--- Record one `$/progress` value for a Tether client.
--- @param token string|integer
--- @param value table
function M.on_progress(token, value)
  local key = tostring(token)
  local p = M.progress[key] or { done = false }
  if value.kind == 'begin' then
    p = {
      title = value.title,
      message = value.message,
      percentage = value.percentage,
      done = false,
    }
  elseif value.kind == 'report' then
    p.message = value.message or p.message
    p.percentage = value.percentage or p.percentage
  elseif value.kind == 'end' then
    p.message = value.message or p.message
    p.done = true
  end
  M.progress[key] = p
  if config.options.progress.echo then
    local text = progress_text(p)
    if p.done then
      text = text .. ' ✓'
    end
    vim.api.nvim_echo({ { M.fit(text, vim.v.echospace), p.done and 'MoreMsg' or 'None' } }, false, {})
  end
  if p.done then
    M.progress[key] = nil
  end
  vim.cmd('redrawstatus')
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'TetherProgress',
    modeline = false,
    data = { token = token, value = value },
  })
end

--- A line about the end of a training run, from `lastResult` of a training status.
--- @param result table
--- @return string text, integer level
function M.result_text(result)
  local status = result.status or '?'
  local reason = result.reason ~= nil and result.reason ~= vim.NIL and result.reason or ''
  local version = result.version ~= nil and result.version ~= vim.NIL and result.version or nil
  local text
  if status == 'promoted' then
    text = ('training done: adapter %s is now active'):format(version or '?')
  elseif status == 'refused' then
    text = ('training done: adapter %s was not promoted'):format(version or '?')
  else
    text = 'training ' .. status
  end
  if reason ~= '' then
    text = text .. ' (' .. reason .. ')'
  end
  local level = status == 'failed' and vim.log.levels.ERROR
    or (status == 'promoted' and vim.log.levels.INFO or vim.log.levels.WARN)
  return text, level
end

--- Handler for the `tether/trainingStatus` notification: remember it, and when a run ends
--- (the state goes back to idle) say how it ended.
function M.on_training_status(_, params)
  local previous = M.training
  M.training = params
  if type(params) == 'table' then
    local was_running = previous and previous.state and previous.state ~= 'idle'
    local result = params.lastResult
    if params.state == 'idle' and was_running and type(result) == 'table' then
      local text, level = M.result_text(result)
      vim.notify('Tether: ' .. text, level, { title = 'Tether' })
    end
  end
  vim.cmd('redrawstatus')
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'TetherTrainingStatus',
    modeline = false,
    data = params,
  })
end

--- Handler for the `tether/decisionRecorded` notification.
function M.on_decision_recorded(_, params)
  M.last_decision = params
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'TetherDecisionRecorded',
    modeline = false,
    data = params,
  })
  require('tether.history').refresh()
  vim.cmd('redrawstatus!') -- every window: the pending count changed
end

--- The notification handlers to give the client.
--- @return table<string, function>
function M.handlers()
  return {
    ['tether/trainingStatus'] = M.on_training_status,
    ['tether/decisionRecorded'] = M.on_decision_recorded,
  }
end

--- Listen to LspProgress for Tether clients (once), and redraw statuslines when Tether's
--- proposals (its diagnostics) change: a decision removes one after the notification.
function M.attach_autocmds(group)
  vim.api.nvim_create_autocmd('DiagnosticChanged', {
    group = group,
    callback = function()
      vim.cmd('redrawstatus!')
    end,
  })
  vim.api.nvim_create_autocmd('LspProgress', {
    group = group,
    callback = function(args)
      local data = args.data or {}
      local params = data.params
      if params and is_tether(data.client_id) and type(params.value) == 'table' then
        M.on_progress(params.token, params.value)
      end
    end,
  })
end

--- A short text for a statusline: running work first, then pending proposals.
--- @return string
function M.statusline()
  for _, p in pairs(M.progress) do
    if not p.done then
      return progress_text(p)
    end
  end
  local training = M.training
  if type(training) == 'table' and training.state and training.state ~= 'idle' then
    local text = 'Tether: ' .. training.state
    if type(training.step) == 'number' and type(training.total) == 'number' then
      text = text .. (' %d/%d'):format(training.step, training.total)
    end
    return text
  end
  local client_mod = require('tether.client')
  local bufnr = vim.api.nvim_get_current_buf()
  if #client_mod.clients({ bufnr = bufnr }) == 0 then
    return ''
  end
  local pending = #require('tether.proposals').diagnostics(bufnr)
  if pending > 0 then
    return ('Tether: %d pending'):format(pending)
  end
  return 'Tether'
end

return M
