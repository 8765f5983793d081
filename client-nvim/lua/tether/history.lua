--- :TetherHistory: the decision log in a floating window; <CR> on a row shows its diff.
local client_mod = require('tether.client')
local config = require('tether.config')
local diff = require('tether.diff')
local ui = require('tether.ui')

local M = {}

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
  { key = 'outcome', title = 'outcome' },
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

--- The buffer text of one page, and the line where the first row is.
--- @param page { items: table[], total: integer }
--- @param offset integer
--- @return string[] lines, integer first_row
function M.render(page, offset)
  local items = page.items or {}
  local lines = ui.table(items, COLUMNS)
  local first_row = 3 -- header and rule come first
  local total = page.total or #items
  local footer
  if #items == 0 then
    footer = 'no decisions recorded yet'
  else
    footer = ('decisions %d–%d of %d   <CR> diff  > next  < previous  r refresh  q close'):format(
      offset + 1,
      offset + #items,
      total
    )
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = footer
  return lines, first_row
end

--- The history row under the cursor of the history window.
--- @return table?
function M.row_at_cursor()
  local view = M.view
  if not view or not vim.api.nvim_win_is_valid(view.win) then
    return nil
  end
  local line = vim.api.nvim_win_get_cursor(view.win)[1]
  return view.items[line - view.first_row + 1]
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

local function fill(view, page)
  view.items = page.items or {}
  view.total = page.total or #view.items
  local lines, first_row = M.render(page, view.offset)
  view.first_row = first_row
  ui.set_lines(view.buf, lines)
  if vim.api.nvim_win_is_valid(view.win) and #view.items > 0 then
    vim.api.nvim_win_set_cursor(view.win, { first_row, 0 })
  end
  vim.api.nvim_exec_autocmds('User', { pattern = 'TetherHistoryShown', modeline = false })
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
  local buf, win =
    ui.float({ 'loading…' }, { title = 'Tether history', filetype = 'tetherhistory' })
  local view = { buf = buf, win = win, offset = 0, total = 0, items = {}, filter = filter }
  view.first_row = 3
  M.view = view
  local page_size = config.options.history.page_size
  local map = function(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = buf, nowait = true, desc = desc })
  end
  map('<CR>', open_row, 'Show the diff of this decision')
  map('r', function() load(view) end, 'Refresh')
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
