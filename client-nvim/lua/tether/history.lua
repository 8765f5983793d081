--- :TetherHistory: the decision log in a floating window (or a split) sized to the screen;
--- <Tab> on a row expands it to its details and diff, <CR> shows the diff beside the file.
local client_mod = require('tether.client')
local config = require('tether.config')
local diff = require('tether.diff')
local ui = require('tether.ui')

local M = {}

--- A history window is never smaller than this (it opens on "loading…").
local MIN_SIZE = { min_width = 80, min_height = 12 }

--- The open history window, if any: { buf, win, offset, total, items, filter, first_row }.
M.view = nil

--- A field of a server row (keys are camelCase, see tether/contract.lua); JSON null is nil.
--- @param row table
--- @param key string
--- @return any
function M.value(row, key)
  local value = row[key]
  if value == vim.NIL then
    return nil
  end
  return value
end

local COLUMNS = {
  { key = 'seq', title = '#' },
  {
    key = 'ts',
    title = 'when',
    get = function(r)
      return ui.when(M.value(r, 'ts'))
    end,
  },
  {
    key = 'outcome',
    title = 'outcome',
    get = function(r)
      return M.outcome_text(r)
    end,
  },
  { key = 'actor', title = 'by' },
  { key = 'path', title = 'path', max = 32 },
  {
    key = 'classKey',
    title = 'class',
    max = 36,
    get = function(r)
      return M.value(r, 'classKey')
    end,
  },
  {
    key = 'proposalId',
    title = 'proposal',
    get = function(r)
      local id = M.value(r, 'proposalId')
      return id and id:sub(1, 8) or ''
    end,
  },
  { key = 'reason', title = 'reason', max = 48 },
}

--- An outcome in words; a partial accept names its hunks ("partly accepted: hunks 1, 3 of 3").
--- @param row table
--- @param total integer? hunks of the proposal, when known
--- @return string
function M.outcome_text(row, total)
  local outcome = M.value(row, 'outcome') or '?'
  if outcome ~= 'partly_accepted' then
    return (outcome:gsub('_', ' '))
  end
  local hunks = M.value(row, 'hunks') or {}
  local numbers = {}
  for i, h in ipairs(hunks) do
    numbers[i] = tostring(h + 1)
  end
  if #numbers == 0 then
    return 'partly accepted'
  end
  return ('partly accepted: hunk%s %s%s'):format(
    #numbers > 1 and 's' or '',
    table.concat(numbers, ', '),
    total and (' of ' .. total) or ''
  )
end

--- The detail lines under an expanded row: outcome, reason, class, model, then its diff.
--- @param row table
--- @param proposal table? the tether/proposal answer, once it came
--- @return string[]
function M.details(row, proposal)
  local out = {}
  local function add(label, value)
    ui.detail(out, label, value)
  end
  local total = proposal and type(proposal.hunks) == 'table' and #proposal.hunks or nil
  add('outcome', M.outcome_text(row, total))
  add('reason', M.value(row, 'reason'))
  add('change', proposal and proposal.rationale and vim.split(proposal.rationale, '\n')[1])
  add('class', M.value(row, 'classKey'))
  local model = M.value(row, 'model')
  local adapter = M.value(row, 'adapterVersion')
  add('model', adapter and ((model or '') .. ' / ' .. adapter) or model)
  if M.value(row, 'proposalId') then
    ui.diff_details(out, proposal)
  end
  out[#out + 1] = ''
  return out
end

--- The buffer text of one page, the line of the first row, and which row each line is.
--- @param page { items: table[], total: integer }
--- @param offset integer
--- @param expanded? table<integer, boolean> rows (by seq) shown with their details
--- @param proposals? table<string, table> tether/proposal answers by id
--- @return string[] lines, integer first_row, table<integer, integer> line_rows
function M.render(page, offset, expanded, proposals)
  expanded, proposals = expanded or {}, proposals or {}
  local items = page.items or {}
  local table_lines = ui.table(items, COLUMNS)
  local lines = { table_lines[1], table_lines[2] }
  local first_row = 3 -- header and rule come first
  local line_rows = {}
  for i, row in ipairs(items) do
    lines[#lines + 1] = table_lines[i + 2]
    line_rows[#lines] = i
    if expanded[row.seq] then
      local id = M.value(row, 'proposalId')
      for _, l in ipairs(M.details(row, id and proposals[id])) do
        lines[#lines + 1] = l
        line_rows[#lines] = i
      end
    end
  end
  local total = page.total or #items
  local footer
  if #items == 0 then
    footer = 'no decisions recorded for this workspace yet'
  else
    footer = ('decisions %d–%d of %d   <Tab> details  <CR> diff  R review  > next  < previous  r refresh  q close'):format(
      offset + 1,
      offset + #items,
      total
    )
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = footer
  return lines, first_row, line_rows
end

--- The history row under the cursor of the history window.
--- @return table?
function M.row_at_cursor()
  local view = M.view
  if not view or not vim.api.nvim_win_is_valid(view.win) then
    return nil
  end
  local line = vim.api.nvim_win_get_cursor(view.win)[1]
  local index = view.line_rows and view.line_rows[line] or (line - view.first_row + 1)
  return view.items[index]
end

local function open_row()
  local row = M.row_at_cursor()
  if not row then
    return
  end
  local id = M.value(row, 'proposalId')
  if not id then
    client_mod.notify(('decision #%s has no proposal (%s)'):format(row.seq, row.outcome or '?'))
    return
  end
  diff.show_proposal(id, { close_win = M.view and M.view.win })
end

--- Draw the view's page again (after a page came, or a row was expanded); the cursor stays
--- on its row when it can, and the window fits the new text.
local function draw(view, keep_cursor)
  local lines, first_row, line_rows = M.render(view.page, view.offset, view.expanded, view.proposals)
  view.first_row, view.line_rows = first_row, line_rows
  ui.set_lines(view.buf, lines)
  ui.fit(view.win, lines, MIN_SIZE)
  if vim.api.nvim_win_is_valid(view.win) and #view.items > 0 then
    local line = first_row
    if keep_cursor then
      for l, i in pairs(line_rows) do
        if i == keep_cursor and (line == first_row or l < line) and l >= first_row then
          line = l
        end
      end
    end
    vim.api.nvim_win_set_cursor(view.win, { line, 0 })
  end
end

local function fill(view, page)
  view.page = page
  view.items = page.items or {}
  view.total = page.total or #view.items
  draw(view)
  vim.api.nvim_exec_autocmds('User', { pattern = 'TetherHistoryShown', modeline = false })
end

--- <Tab>: show or hide the details and diff of the row under the cursor.
local function toggle_row()
  local view = M.view
  local row = M.row_at_cursor()
  if not view or not row then
    return
  end
  local index
  for i, item in ipairs(view.items) do
    if item == row then
      index = i
    end
  end
  view.expanded[row.seq] = not view.expanded[row.seq] or nil
  local id = M.value(row, 'proposalId')
  if view.expanded[row.seq] and id and not view.proposals[id] then
    local client = client_mod.require_client()
    if client then
      client_mod.request(client, 'tether/proposal', { proposalId = id }, function(proposal)
        view.proposals[id] = proposal or {}
        if vim.api.nvim_buf_is_valid(view.buf) then
          draw(view, index)
          vim.api.nvim_exec_autocmds('User', { pattern = 'TetherHistoryExpanded', modeline = false })
        end
      end)
    end
  end
  draw(view, index)
  if not (view.expanded[row.seq] and id and not view.proposals[id]) then
    vim.api.nvim_exec_autocmds('User', { pattern = 'TetherHistoryExpanded', modeline = false })
  end
end

--- Fetch one page into the open window.
--- @param view table
local function load(view)
  local client = client_mod.require_client()
  if not client then
    return
  end
  local filter = next(view.filter) and view.filter or vim.empty_dict() -- {} would encode as []
  local params = { offset = view.offset, limit = config.options.history.page_size, filter = filter }
  client_mod.request(client, 'tether/history', params, function(page)
    if vim.api.nvim_buf_is_valid(view.buf) then
      fill(view, page or {})
    end
  end)
end

--- Refresh the window if it is open (a new decision was recorded).
function M.refresh()
  local view = M.view
  if view and vim.api.nvim_buf_is_valid(view.buf) then
    load(view)
  end
end

--- Open the history window. `search` narrows it (path, class, reason or texts).
--- @param opts? { search: string?, filter: table? }
function M.open(opts)
  opts = opts or {}
  local client = client_mod.require_client()
  if not client then
    return
  end
  local filter = vim.deepcopy(opts.filter or {})
  if opts.search and opts.search ~= '' then
    filter.search = opts.search
  end
  local open = config.options.history.layout == 'split' and ui.split or ui.float
  local buf, win = open({ 'loading…' }, vim.tbl_extend('force', MIN_SIZE, {
    title = 'Tether history', filetype = 'tetherhistory',
  }))
  local view = {
    buf = buf, win = win, offset = 0, total = 0, items = {}, filter = filter,
    page = { items = {}, total = 0 }, expanded = {}, proposals = {},
  }
  view.first_row = 3
  M.view = view
  local page_size = config.options.history.page_size
  local map = function(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = buf, nowait = true, desc = desc })
  end
  map('<CR>', open_row, 'Show the diff of this decision')
  map('<Tab>', toggle_row, 'Show or hide the details and diff of this decision')
  map('o', toggle_row, 'Show or hide the details and diff of this decision')
  map('r', function() load(view) end, 'Refresh')
  map('R', function()
    local row = M.row_at_cursor()
    if row then
      require('tether.review').review_history_row(row, function() load(view) end)
    end
  end, 'Review the production decision under the cursor (confirm / overturn / discard)')
  map('>', function()
    if view.offset + page_size < view.total then
      view.offset = view.offset + page_size
      load(view)
    end
  end, 'Next page')
  map('<', function()
    if view.offset > 0 then
      view.offset = math.max(0, view.offset - page_size)
      load(view)
    end
  end, 'Previous page')
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
