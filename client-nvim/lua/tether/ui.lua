--- Floating windows and plain-text tables: the little UI the plugin draws itself.
local config = require('tether.config')

local M = {}

--- Display width of a value in a table cell.
--- @param value any
--- @return string
function M.cell(value)
  if value == nil or value == vim.NIL then
    return ''
  end
  if type(value) == 'number' then
    if value ~= math.floor(value) then
      return ('%.3f'):format(value)
    end
    return tostring(value)
  end
  if type(value) == 'boolean' then
    return value and 'yes' or 'no'
  end
  if type(value) == 'table' then
    return vim.inspect(value, { newline = ' ', indent = '' })
  end
  local text = tostring(value):gsub('[\r\n]+', ' ')
  return text
end

--- Cut a string to `width` display cells, marking the cut.
--- @param text string
--- @param width integer
--- @return string
local function clip(text, width)
  if vim.fn.strdisplaywidth(text) <= width then
    return text
  end
  local chars = vim.fn.strchars(text)
  while chars > 0 and vim.fn.strdisplaywidth(vim.fn.strcharpart(text, 0, chars)) > width - 1 do
    chars = chars - 1
  end
  return vim.fn.strcharpart(text, 0, chars) .. '…'
end

local function pad(text, width)
  return text .. string.rep(' ', width - vim.fn.strdisplaywidth(text))
end

--- Lines of an aligned table. `columns` are { key = …, title = …, max = …, get = fn? }.
--- @param rows table[]
--- @param columns { key: string, title: string, max: integer?, get: (fun(row: table): any)? }[]
--- @return string[] lines (header, rule, one line per row)
function M.table(rows, columns)
  local cells = {}
  local widths = {}
  for c, col in ipairs(columns) do
    widths[c] = vim.fn.strdisplaywidth(col.title)
  end
  for r, row in ipairs(rows) do
    cells[r] = {}
    for c, col in ipairs(columns) do
      local value = col.get and col.get(row) or row[col.key]
      local text = M.cell(value)
      if col.max then
        text = clip(text, col.max)
      end
      cells[r][c] = text
      widths[c] = math.max(widths[c], vim.fn.strdisplaywidth(text))
    end
  end
  local function line(values)
    local parts = {}
    for c, v in ipairs(values) do
      parts[c] = c == #values and v or pad(v, widths[c])
    end
    return (table.concat(parts, '  '):gsub('%s+$', ''))
  end
  local titles, rules = {}, {}
  for c, col in ipairs(columns) do
    titles[c] = col.title
    rules[c] = string.rep('─', widths[c])
  end
  local lines = { line(titles), line(rules) }
  for r = 1, #rows do
    lines[#lines + 1] = line(cells[r])
  end
  return lines
end

--- Size and place of a centred float for `lines`, sized to the screen: as large as the
--- content needs (at least `min_width` × `min_height`, so a window opened on "loading…"
--- is not a sliver), at most the configured share of the screen.
--- @param lines string[]
--- @param opts? { min_width: integer?, min_height: integer? }
--- @return { width: integer, height: integer, row: integer, col: integer }
function M.float_geometry(lines, opts)
  opts = opts or {}
  local fopts = config.options.float
  local columns = vim.o.columns
  local rows = vim.o.lines - vim.o.cmdheight - (vim.o.laststatus > 0 and 1 or 0)
  local content_width = 0
  for _, l in ipairs(lines) do
    content_width = math.max(content_width, vim.fn.strdisplaywidth(l))
  end
  local max_width = math.max(20, math.min(columns - 4, math.floor(columns * fopts.width)))
  local max_height = math.max(3, math.min(rows - 4, math.floor(rows * fopts.height)))
  local width = math.min(max_width, math.max(opts.min_width or 20, content_width + 2))
  local height = math.min(max_height, math.max(opts.min_height or 3, #lines))
  return {
    width = width,
    height = height,
    row = math.max(0, math.floor((rows - height) / 2) - 1),
    col = math.max(0, math.floor((columns - width) / 2)),
  }
end

--- Resize a window to its new content: a float is re-centred, a split gets the height.
--- @param win integer
--- @param lines string[]
--- @param opts? { min_width: integer?, min_height: integer? }
function M.fit(win, lines, opts)
  if not vim.api.nvim_win_is_valid(win) then
    return
  end
  local cfg = vim.api.nvim_win_get_config(win)
  local g = M.float_geometry(lines, opts)
  if cfg.relative and cfg.relative ~= '' then
    vim.api.nvim_win_set_config(win, {
      relative = 'editor', width = g.width, height = g.height, row = g.row, col = g.col,
    })
  else
    vim.api.nvim_win_set_height(win, math.min(g.height, math.floor(vim.o.lines * 0.5)))
  end
end

local function scratch(lines, opts)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = opts.filetype or 'tether'
  M.set_lines(buf, lines)
  return buf
end

local function closing_keys(buf, win)
  local function close()
    if vim.api.nvim_win_is_valid(win) then
      vim.api.nvim_win_close(win, true)
    end
  end
  vim.keymap.set('n', 'q', close, { buffer = buf, nowait = true, desc = 'Close' })
  vim.keymap.set('n', '<Esc>', close, { buffer = buf, nowait = true, desc = 'Close' })
end

--- A scratch buffer in a centred floating window sized to the screen; returns buf, win.
--- @param lines string[]
--- @param opts { title: string, filetype: string?, name: string?, min_width: integer?, min_height: integer? }
--- @return integer buf, integer win
function M.float(lines, opts)
  local buf = scratch(lines, opts)
  local g = M.float_geometry(lines, opts)
  local win = vim.api.nvim_open_win(buf, true, {
    relative = 'editor',
    width = g.width,
    height = g.height,
    row = g.row,
    col = g.col,
    style = 'minimal',
    border = config.options.float.border,
    title = ' ' .. opts.title .. ' ',
    title_pos = 'center',
  })
  vim.wo[win].cursorline = true
  vim.wo[win].wrap = false
  closing_keys(buf, win)
  return buf, win
end

--- A scratch buffer in a split at the bottom, full width; returns buf, win.
--- @param lines string[]
--- @param opts { title: string, filetype: string?, min_height: integer? }
--- @return integer buf, integer win
function M.split(lines, opts)
  local buf = scratch(lines, opts)
  local height = math.max(opts.min_height or 3, math.min(#lines, math.floor(vim.o.lines * 0.4)))
  local win = vim.api.nvim_open_win(buf, true, { split = 'below', win = -1, height = height })
  vim.wo[win].cursorline = true
  vim.wo[win].wrap = false
  vim.wo[win].number = false
  vim.wo[win].winbar = opts.title
  closing_keys(buf, win)
  return buf, win
end

--- Replace a scratch buffer's text (it stays read-only for the user).
--- @param buf integer
--- @param lines string[]
function M.set_lines(buf, lines)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
end

--- Add a `label  value` detail line under an expanded entry; an empty value adds nothing.
--- @param out string[]
--- @param label string
--- @param value any
function M.detail(out, label, value)
  if value ~= nil and value ~= vim.NIL and value ~= '' then
    out[#out + 1] = ('    %-10s %s'):format(label, M.cell(value))
  end
end

--- Add a proposal's diff under an expanded entry, without its file headers (the entry
--- names the file), or a loading line until the tether/proposal answer came.
--- @param out string[]
--- @param proposal table?
function M.diff_details(out, proposal)
  if not proposal then
    out[#out + 1] = '    (loading the diff…)'
    return
  end
  for _, l in ipairs(vim.split(proposal.diff or '(no change)', '\n', { trimempty = true })) do
    if not l:match('^%-%-%-') and not l:match('^%+%+%+') then
      out[#out + 1] = '    ' .. l
    end
  end
end

--- Short local time for an ISO-8601 UTC timestamp ("2025-01-02T03:04:05.123+00:00").
--- @param ts string?
--- @return string
function M.when(ts)
  if type(ts) ~= 'string' then
    return ''
  end
  local date, time = ts:match('^(%d+%-%d+%-%d+)T(%d+:%d+)')
  if date then
    return date .. ' ' .. time
  end
  return ts
end

return M
