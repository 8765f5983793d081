--- :TetherReview: decisions made through `tether serve` (an API client's accept, reject or
--- correction) come back as production decisions awaiting review. They teach Tether only
--- once reviewed: confirm (the verdict becomes yours), overturn (the opposite becomes
--- yours) or discard (nothing is learnt). The list comes from `tether/production`; a review
--- is the server command `tether.reviewProduction`. In :TetherHistory, `R` on a production
--- row reviews it too.
local client_mod = require('tether.client')
local ui = require('tether.ui')

local M = {}

local MIN_SIZE = { min_width = 72, min_height = 8 }

--- The open review window, if any: { buf, win, items, line_items, expanded, proposals }.
M.view = nil

local VERDICT = { accept = 'accepted', reject = 'rejected', correct = 'corrected' }
local REVIEW = {
  pending = 'awaiting review',
  confirm = 'confirmed',
  overturn = 'overturned',
  discard = 'discarded',
}

local function value(row, key)
  local v = row[key]
  if v == vim.NIL then
    return nil
  end
  return v
end

--- The three reviews of an item, each with what it records (the server's rules in words).
--- @param verdict string accept | reject | correct
--- @return { action: string, title: string }[]
function M.choices(verdict)
  local confirm = ({
    accept = 'confirm: record the accept as yours (it teaches Tether)',
    reject = 'confirm: record the reject as yours (it teaches Tether)',
    correct = "confirm: record the client's correction as yours (it teaches Tether)",
  })[verdict] or 'confirm: record the verdict as yours'
  local overturn = verdict == 'accept' and 'overturn: record a reject instead'
    or 'overturn: record an accept of the proposal as made instead'
  return {
    { action = 'confirm', title = confirm },
    { action = 'overturn', title = overturn },
    { action = 'discard', title = 'discard: nothing is learnt from it' },
  }
end

local COLUMNS = {
  { key = 'seq', title = '#' },
  {
    key = 'ts',
    title = 'when',
    get = function(r)
      return ui.when(value(r, 'ts'))
    end,
  },
  {
    key = 'verdict',
    title = 'API client',
    get = function(r)
      return VERDICT[value(r, 'verdict')] or value(r, 'verdict')
    end,
  },
  {
    key = 'review',
    title = 'review',
    get = function(r)
      return REVIEW[value(r, 'review')] or value(r, 'review')
    end,
  },
  { key = 'path', title = 'path', max = 32 },
  { key = 'tokenId', title = 'token', max = 16 },
  { key = 'reason', title = 'reason', max = 40 },
}

--- Pending items first (newest first, as the server sends them), then the reviewed ones.
--- @param items table[]
--- @return table[]
function M.ordered(items)
  local pending, done = {}, {}
  for _, item in ipairs(items or {}) do
    local list = value(item, 'review') == 'pending' and pending or done
    list[#list + 1] = item
  end
  return vim.list_extend(pending, done)
end

--- The detail lines of an expanded item: the correction's text, then the proposal's diff.
--- @param item table
--- @param proposal table? the tether/proposal answer, once it came
--- @return string[]
function M.details(item, proposal)
  local out = {}
  ui.detail(out, 'class', value(item, 'classKey'))
  ui.detail(out, 'proposal', value(item, 'proposalId'))
  ui.detail(out, 'reason', value(item, 'reason'))
  local text = value(item, 'text')
  if value(item, 'verdict') == 'correct' and text then
    out[#out + 1] = '    the client wrote instead:'
    for _, l in ipairs(vim.split(text, '\n', { trimempty = true })) do
      out[#out + 1] = '      ' .. l
    end
  end
  ui.diff_details(out, proposal)
  out[#out + 1] = ''
  return out
end

--- The window's text for a tether/production answer, and which item each line shows.
--- @param result { items: table[], counts: table }
--- @param expanded? table<integer, boolean> items (by seq) shown with their details
--- @param proposals? table<string, table> tether/proposal answers by id
--- @return string[] lines, table<integer, table> line_items
function M.render(result, expanded, proposals)
  expanded, proposals = expanded or {}, proposals or {}
  local items = M.ordered(result.items)
  local counts = result.counts or {}
  local lines = {
    ('Production decisions (tether serve): %d awaiting review, %d confirmed, %d overturned, %d discarded')
      :format(counts.pending or 0, counts.confirmed or 0, counts.overturned or 0, counts.discarded or 0),
    'Only reviewed ones teach Tether.',
    '',
  }
  local line_items = {}
  if #items == 0 then
    lines[#lines + 1] = '  none: nothing was decided through `tether serve` yet'
  else
    local table_lines = ui.table(items, COLUMNS)
    lines[#lines + 1] = table_lines[1]
    lines[#lines + 1] = table_lines[2]
    for i, item in ipairs(items) do
      lines[#lines + 1] = table_lines[i + 2]
      line_items[#lines] = item
      if expanded[item.seq] then
        for _, l in ipairs(M.details(item, proposals[value(item, 'proposalId') or ''])) do
          lines[#lines + 1] = l
          line_items[#lines] = item
        end
      end
    end
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] =
    '<Tab> details and diff  c confirm  x overturn  d discard  R choose  r refresh  q close'
  return lines, line_items
end

--- Settle one production decision; `on_done(result)` runs after the server recorded it.
--- @param seq integer the production decision's log row
--- @param action string confirm | overturn | discard
--- @param on_done fun(result: table)?
--- @param reason string? why (an overturned accept becomes the user's reject)
function M.review(seq, action, on_done, reason)
  local client = client_mod.require_client()
  if not client then
    return
  end
  local argument = { seq = seq, action = action, reason = reason }
  client_mod.exec(client, 'tether.reviewProduction', argument, function(result)
    local words = ({ confirm = 'confirmed', overturn = 'overturned', discard = 'discarded' })[action]
    client_mod.notify(('production decision #%d %s%s; %d left to review'):format(
      seq,
      words or action,
      action == 'discard' and ' (nothing is learnt from it)' or ' (now a decision of yours)',
      result and result.pending or 0
    ))
    vim.api.nvim_exec_autocmds('User', { pattern = 'TetherProductionReviewed', modeline = false })
    if on_done then
      on_done(result)
    end
  end)
end

--- Record a review of `item`; overturning an accept asks why first (vim.ui.input: the
--- reason teaches what the user does not want; <Esc> cancels the review).
--- @param item table
--- @param action string
--- @param on_done fun(result: table)?
function M.settle(item, action, on_done)
  if action ~= 'overturn' or value(item, 'verdict') ~= 'accept' then
    M.review(item.seq, action, on_done)
    return
  end
  vim.ui.input({ prompt = 'Tether: why reject it? (optional) ' }, function(text)
    if text == nil then
      client_mod.notify(('review of #%d cancelled: nothing was recorded'):format(item.seq))
      return
    end
    M.review(item.seq, action, on_done, text ~= '' and text or nil)
  end)
end

--- Ask which review (vim.ui.select), then record it.
--- @param item { seq: integer, verdict: string? }
--- @param on_done fun(result: table)?
function M.choose(item, on_done)
  vim.ui.select(M.choices(value(item, 'verdict') or 'accept'), {
    prompt = ('Tether: review production decision #%d'):format(item.seq),
    format_item = function(c)
      return c.title
    end,
    kind = 'tether_review',
  }, function(choice)
    if choice then
      M.settle(item, choice.action, on_done)
    end
  end)
end

--- The history window's `R`: review the production row under the cursor.
--- @param row table a tether/history row
--- @param on_done fun()?
function M.review_history_row(row, on_done)
  if value(row, 'outcome') ~= 'production' then
    client_mod.notify(
      ('decision #%s is not a production decision (%s); :TetherReview lists those'):format(
        row.seq,
        value(row, 'outcome') or '?'
      ),
      vim.log.levels.WARN
    )
    return
  end
  local client = client_mod.require_client()
  if not client then
    return
  end
  -- the history row lacks the API client's verdict: the production list has it
  client_mod.request(client, 'tether/production', { pendingOnly = true, limit = 1000 }, function(result)
    for _, item in ipairs(result and result.items or {}) do
      if item.seq == row.seq then
        M.choose(item, on_done)
        return
      end
    end
    client_mod.notify(('production decision #%d was already reviewed'):format(row.seq))
  end)
end

local function draw(view)
  local lines, line_items = M.render(view.result, view.expanded, view.proposals)
  view.line_items = line_items
  ui.set_lines(view.buf, lines)
  ui.fit(view.win, lines, MIN_SIZE)
end

local function item_at_cursor(view)
  if not vim.api.nvim_win_is_valid(view.win) then
    return nil
  end
  return view.line_items[vim.api.nvim_win_get_cursor(view.win)[1]]
end

local function load(view)
  local client = client_mod.require_client()
  if not client then
    return
  end
  client_mod.request(client, 'tether/production', { limit = 200 }, function(result)
    if not vim.api.nvim_buf_is_valid(view.buf) then
      return
    end
    view.result = result or { items = {}, counts = {} }
    draw(view)
    local first
    for line in pairs(view.line_items) do -- the cursor on the first item
      first = (first == nil or line < first) and line or first
    end
    if first and vim.api.nvim_win_is_valid(view.win) then
      vim.api.nvim_win_set_cursor(view.win, { first, 0 })
    end
    vim.api.nvim_exec_autocmds('User', { pattern = 'TetherReviewShown', modeline = false })
  end)
end

local function toggle(view)
  local item = item_at_cursor(view)
  if not item then
    return
  end
  view.expanded[item.seq] = not view.expanded[item.seq] or nil
  local id = value(item, 'proposalId')
  if view.expanded[item.seq] and id and not view.proposals[id] then
    local client = client_mod.require_client()
    if client then
      client_mod.request(client, 'tether/proposal', { proposalId = id }, function(proposal)
        view.proposals[id] = proposal or {}
        if vim.api.nvim_buf_is_valid(view.buf) then
          draw(view)
          vim.api.nvim_exec_autocmds('User', { pattern = 'TetherReviewExpanded', modeline = false })
        end
      end)
    end
  end
  draw(view)
end

--- Open the review window.
function M.open()
  if not client_mod.require_client() then
    return
  end
  local buf, win = ui.float({ 'loading…' }, vim.tbl_extend('force', MIN_SIZE, {
    title = 'Tether: production decisions', filetype = 'tetherreview',
  }))
  local view = { buf = buf, win = win, result = { items = {}, counts = {} }, line_items = {},
    expanded = {}, proposals = {} }
  M.view = view
  local function act(action)
    return function()
      local item = item_at_cursor(view)
      if not item then
        return
      end
      if value(item, 'review') ~= 'pending' then
        client_mod.notify(('production decision #%d was already %s'):format(
          item.seq, REVIEW[value(item, 'review')] or value(item, 'review')))
        return
      end
      local reload = function()
        load(view)
      end
      if action then
        M.settle(item, action, reload)
      else
        M.choose(item, reload)
      end
    end
  end
  local map = function(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = buf, nowait = true, desc = desc })
  end
  map('<Tab>', function() toggle(view) end, 'Show or hide the details and diff')
  map('o', function() toggle(view) end, 'Show or hide the details and diff')
  map('c', act('confirm'), 'Confirm: the verdict becomes yours')
  map('x', act('overturn'), 'Overturn: the opposite verdict becomes yours')
  map('d', act('discard'), 'Discard: nothing is learnt')
  map('R', act(nil), 'Choose a review')
  map('r', function() load(view) end, 'Refresh')
  vim.api.nvim_create_autocmd('BufWipeout', {
    buffer = buf,
    once = true,
    callback = function()
      if M.view == view then
        M.view = nil
      end
    end,
  })
  load(view)
end

return M
