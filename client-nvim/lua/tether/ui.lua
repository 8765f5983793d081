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

--- A scratch buffer in a centred floating window; returns buf, win.
--- @param lines string[]
--- @param opts { title: string, filetype: string?, name: string? }
--- @return integer buf, integer win
function M.float(lines, opts)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = opts.filetype or 'tether'
  M.set_lines(buf, lines)
  local fopts = config.options.float
  local columns, rows = vim.o.columns, vim.o.lines
  local content_width = 0
  for _, l in ipairs(lines) do
    content_width = math.max(content_width, vim.fn.strdisplaywidth(l))
  end
  local width = math.max(20, math.min(math.floor(columns * fopts.width), content_width + 2))
  local height = math.max(3, math.min(math.floor(rows * fopts.height), #lines))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = 'editor',
    width = width,
    height = height,
    row = math.max(0, math.floor((rows - height) / 2) - 1),
    col = math.max(0, math.floor((columns - width) / 2)),
    style = 'minimal',
    border = fopts.border,
    title = ' ' .. opts.title .. ' ',
    title_pos = 'center',
  })
  vim.wo[win].cursorline = true
  vim.wo[win].wrap = false
  local function close()
    if vim.api.nvim_win_is_valid(win) then
      vim.api.nvim_win_close(win, true)
    end
  end
  vim.keymap.set('n', 'q', close, { buffer = buf, nowait = true, desc = 'Close' })
  vim.keymap.set('n', '<Esc>', close, { buffer = buf, nowait = true, desc = 'Close' })
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
