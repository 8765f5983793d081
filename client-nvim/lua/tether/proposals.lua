--- Proposals as the editor sees them: Tether diagnostics, whose `data` carries the id.
---
--- Accept and reject go straight to the server commands; the server answers an accept
--- with `workspace/applyEdit`, which Neovim's built-in handler applies, so the buffer
--- changes exactly as it would through the code action.
local client_mod = require('tether.client')

local M = {}

--- The proposal id a Tether diagnostic carries (`data` is the id, or `{proposalId = id}`).
--- @param diagnostic vim.Diagnostic
--- @return string?
function M.id_of(diagnostic)
  local lsp_diag = diagnostic.user_data and diagnostic.user_data.lsp
  local data = lsp_diag and lsp_diag.data
  if type(data) == 'string' then
    return data
  end
  if type(data) == 'table' then
    return data.proposalId or data.proposal_id or data.id
  end
  return nil
end

--- @param diagnostic vim.Diagnostic
--- @return boolean
local function is_tether(diagnostic)
  return diagnostic.source == 'tether' and M.id_of(diagnostic) ~= nil
end

--- Every pending proposal shown in a buffer (nil: every buffer).
--- @param bufnr integer?
--- @return vim.Diagnostic[]
function M.diagnostics(bufnr)
  return vim.tbl_filter(is_tether, vim.diagnostic.get(bufnr))
end

--- The proposal under the cursor: the narrowest Tether diagnostic whose range holds it.
--- @param bufnr integer?
--- @param pos integer[]? {row (1-based), col (0-based)}, default the cursor
--- @return vim.Diagnostic?
function M.at_cursor(bufnr, pos)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  pos = pos or vim.api.nvim_win_get_cursor(0)
  local row, col = pos[1] - 1, pos[2]
  local best, best_span
  for _, d in ipairs(M.diagnostics(bufnr)) do
    local end_lnum = d.end_lnum or d.lnum
    local end_col = d.end_col or d.col
    local inside = row >= d.lnum and row <= end_lnum
    if inside and row == d.lnum and row == end_lnum and d.col ~= end_col then
      inside = col >= d.col and col <= end_col
    end
    if inside then
      local span = (end_lnum - d.lnum) * 100000 + (end_col - d.col)
      if not best or span < best_span then
        best, best_span = d, span
      end
    end
  end
  if best then
    return best
  end
  -- A proposal on the cursor's line whose columns miss the cursor still counts.
  for _, d in ipairs(M.diagnostics(bufnr)) do
    if d.lnum == row then
      return d
    end
  end
  return nil
end

--- The proposal id under the cursor, or nil with a message.
--- @param bufnr integer?
--- @return string?
function M.id_at_cursor(bufnr)
  local d = M.at_cursor(bufnr)
  if not d then
    client_mod.notify(
      'no proposal under the cursor (:TetherPending lists them)',
      vim.log.levels.WARN
    )
    return nil
  end
  return M.id_of(d)
end

--- Accept the proposal under the cursor (or `id`), optionally only some hunks.
--- @param opts? { id: string?, hunks: integer[]?, bufnr: integer?, on_done: fun(result: any)? }
function M.accept(opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local id = opts.id or M.id_at_cursor(bufnr)
  local client = id and client_mod.require_client(bufnr)
  if not client then
    return
  end
  local argument = { proposalId = id }
  if opts.hunks and #opts.hunks > 0 then
    argument.hunks = opts.hunks
  end
  client_mod.exec(client, 'tether.accept', argument, function(result)
    if opts.on_done then
      opts.on_done(result)
    end
  end, bufnr)
end

--- Reject the proposal under the cursor (or `id`), with an optional reason.
--- @param opts? { id: string?, reason: string?, bufnr: integer?, on_done: fun(result: any)? }
function M.reject(opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local id = opts.id or M.id_at_cursor(bufnr)
  local client = id and client_mod.require_client(bufnr)
  if not client then
    return
  end
  local argument = { proposalId = id }
  if opts.reason and opts.reason ~= '' then
    argument.reason = opts.reason
  end
  client_mod.exec(client, 'tether.reject', argument, function(result)
    if opts.on_done then
      opts.on_done(result)
    end
  end, bufnr)
end

--- Ask for a reason with vim.ui.input, then reject (the "Reject with reason" flow).
--- @param opts? { id: string?, bufnr: integer? }
function M.reject_with_reason(opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local id = opts.id or M.id_at_cursor(bufnr)
  if not id then
    return
  end
  vim.ui.input({ prompt = 'Reason for rejecting: ' }, function(reason)
    if reason == nil then
      return -- cancelled: the proposal stays pending
    end
    M.reject({ id = id, reason = reason, bufnr = bufnr })
  end)
end

--- The quickfix list of every pending proposal shown in any buffer.
--- @param opts? { open: boolean? }
--- @return integer count
function M.pending(opts)
  opts = opts or {}
  local diags = M.diagnostics(nil)
  table.sort(diags, function(a, b)
    if a.bufnr ~= b.bufnr then
      return vim.api.nvim_buf_get_name(a.bufnr) < vim.api.nvim_buf_get_name(b.bufnr)
    end
    return a.lnum < b.lnum
  end)
  local items = vim.diagnostic.toqflist(diags)
  for i, item in ipairs(items) do
    item.text = ('[%s] %s'):format(M.id_of(diags[i]):sub(1, 8), item.text)
    item.user_data = { proposalId = M.id_of(diags[i]) }
  end
  vim.fn.setqflist({}, ' ', { title = 'Tether: pending proposals', items = items })
  if opts.open ~= false then
    if #items > 0 then
      vim.cmd('botright copen')
    else
      client_mod.notify('no pending proposals')
    end
  end
  return #items
end

--- The length of a line in the server's position encoding.
--- @param line string
--- @param encoding string
--- @return integer
function M.line_length(line, encoding)
  if encoding == 'utf-8' then
    return #line
  end
  if vim.fn.has('nvim-0.11') == 1 then
    return vim.str_utfindex(line, encoding)
  end
  local utf32, utf16 = vim.str_utfindex(line) ---@diagnostic disable-line: missing-parameter
  return encoding == 'utf-32' and utf32 or utf16
end

--- Ask the agent for a proposal on a range of the buffer (0-based rows, end exclusive).
--- @class tether.ProposeOpts
--- @field task string a task of the agent (improve, document, fix…)
--- @field bufnr integer?
--- @field start_row integer? 0-based first row (default: the cursor's)
--- @field end_row integer? 0-based row after the last one (exclusive)
--- @field on_done fun(result: any)?

--- The LSP range of rows `start_row`..`end_row` (0-based, end exclusive) of a buffer.
--- @param bufnr integer
--- @param client vim.lsp.Client
--- @param start_row integer
--- @param end_row integer
--- @return table
function M.range_of(bufnr, client, start_row, end_row)
  local line_count = vim.api.nvim_buf_line_count(bufnr)
  end_row = math.min(end_row, line_count)
  local range
  if end_row >= line_count then
    -- The end of the document: the end of the last line (there is no line after it).
    local last = vim.api.nvim_buf_get_lines(bufnr, line_count - 1, line_count, false)[1] or ''
    local character = M.line_length(last, client.offset_encoding or 'utf-16')
    range = {
      start = { line = start_row, character = 0 },
      ['end'] = { line = line_count - 1, character = character },
    }
  else
    range = {
      start = { line = start_row, character = 0 },
      ['end'] = { line = end_row, character = 0 },
    }
  end
  return range
end

--- The rows (0-based, end exclusive) of the innermost `def`/`class` around rows
--- `first`..`last - 1` that is larger than them (by indentation), or nil.
--- @param lines string[]
--- @param first integer
--- @param last integer
--- @return integer?, integer?
function M.enclosing_block(lines, first, last)
  local function indent(l)
    return #(l:match('^%s*'))
  end
  for i = math.min(first, #lines - 1), 0, -1 do
    local line = lines[i + 1]
    if line:match('^%s*def%s') or line:match('^%s*async%s+def%s') or line:match('^%s*class%s') then
      local own, stop = indent(line), i
      for j = i + 1, #lines - 1 do
        local l = lines[j + 1]
        if l:match('%S') then
          if indent(l) <= own then
            break
          end
          stop = j
        end
      end
      if stop + 1 >= last and not (i == first and stop + 1 == last) then
        return i, stop + 1
      end
    end
  end
  return nil, nil
end

--- Hooks for an error of a request on rows: Retry, and Retry on the enclosing function.
local function error_hooks(bufnr, start_row, end_row, again, rephrase)
  return function(err)
    client_mod.show_error(err, {
      retry = function(widen)
        if not widen then
          return again(start_row, end_row)
        end
        local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
        local s, e = M.enclosing_block(lines, start_row, end_row)
        if not s then
          client_mod.notify('no enclosing function or class here', vim.log.levels.WARN)
          return
        end
        again(s, e)
      end,
      rephrase = rephrase,
    })
  end
end

--- @param opts tether.ProposeOpts
function M.propose(opts)
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local client = client_mod.require_client(bufnr)
  if not client then
    return
  end
  local start_row = opts.start_row or (vim.api.nvim_win_get_cursor(0)[1] - 1)
  local end_row = opts.end_row or (start_row + 1)
  local range = M.range_of(bufnr, client, start_row, end_row)
  local argument = { uri = vim.uri_from_bufnr(bufnr), range = range, task = opts.task }
  client_mod.notify(('asking for a proposal (%s)…'):format(opts.task))
  client_mod.exec(client, 'tether.propose', argument, function(result)
    local ids = type(result) == 'table' and result.proposalIds or {}
    if #ids == 0 then
      client_mod.notify('the agent had no proposal for this range')
    end
    if opts.on_done then
      opts.on_done(result)
    end
  end, bufnr, error_hooks(bufnr, start_row, end_row, function(s, e)
    M.propose(vim.tbl_extend('force', opts, { start_row = s, end_row = e }))
  end))
end

--- After an answer that made proposals: say so, move to the first shown one.
local function answered(result, opts)
  local shown = type(result) == 'table' and result.shown or {}
  local ids = type(result) == 'table' and result.proposalIds or {}
  if #ids == 0 then
    client_mod.notify('no suggestion for this selection')
  elseif #shown == 0 then
    client_mod.notify('Tether decided this one by itself (see :TetherHistory)')
  end
  if opts.on_done then
    opts.on_done(result)
  end
end

--- :TetherAsk: a request in your own words on rows of the buffer (0-based, end exclusive);
--- without `instruction`, asks for it with vim.ui.input.
--- @param opts { instruction: string?, bufnr: integer?, start_row: integer?, end_row: integer?, on_done: fun(result: any)? }
function M.ask(opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local start_row = opts.start_row or (vim.api.nvim_win_get_cursor(0)[1] - 1)
  local end_row = opts.end_row or (start_row + 1)
  if not opts.instruction or vim.trim(opts.instruction) == '' then
    vim.ui.input({ prompt = 'Ask Tether (in your own words): ' }, function(words)
      if words and vim.trim(words) ~= '' then
        M.ask(vim.tbl_extend('force', opts, {
          instruction = words, bufnr = bufnr, start_row = start_row, end_row = end_row,
        }))
      end
    end)
    return
  end
  local client = client_mod.require_client(bufnr)
  if not client then
    return
  end
  local argument = {
    uri = vim.uri_from_bufnr(bufnr),
    range = M.range_of(bufnr, client, start_row, end_row),
    instruction = vim.trim(opts.instruction),
  }
  client_mod.notify(('asking: %s…'):format(argument.instruction))
  client_mod.exec(client, 'tether.ask', argument, function(result)
    answered(result, opts)
  end, bufnr, error_hooks(bufnr, start_row, end_row, function(s, e)
    M.ask(vim.tbl_extend('force', opts, { bufnr = bufnr, start_row = s, end_row = e }))
  end, function()
    M.ask(vim.tbl_extend('force', opts, { instruction = '', bufnr = bufnr }))
  end))
end

--- Regenerate (no words) or refine (`instruction`) the proposal under the cursor or `id`:
--- the server answers again; the words are recorded as the replaced proposal's reason.
--- @param opts { id: string?, instruction: string?, refine: boolean?, bufnr: integer?, on_done: fun(result: any)? }
function M.replace(opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local id = opts.id or M.id_at_cursor(bufnr)
  if not id then
    return
  end
  if opts.refine and (not opts.instruction or vim.trim(opts.instruction) == '') then
    vim.ui.input({ prompt = 'What should change? ' }, function(words)
      if words and vim.trim(words) ~= '' then
        M.replace(vim.tbl_extend('force', opts, { id = id, instruction = words, bufnr = bufnr }))
      end
    end)
    return
  end
  local client = client_mod.require_client(bufnr)
  if not client then
    return
  end
  local command, argument = 'tether.regenerate', { proposalId = id }
  if opts.refine then
    command, argument.instruction = 'tether.refine', vim.trim(opts.instruction)
  end
  client_mod.exec(client, command, argument, function(result)
    answered(result, opts)
  end, bufnr)
end

return M
