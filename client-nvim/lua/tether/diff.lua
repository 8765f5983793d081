--- A proposal's diff in a split: unified (one `diff` buffer) or side by side (:diffthis).
local client_mod = require('tether.client')
local config = require('tether.config')

local M = {}

--- A field of the tether/proposal result (camelCase keys, see tether/contract.lua); null is nil.
local function field(p, key)
  local v = p[key]
  return v ~= vim.NIL and v or nil
end

--- Text ending in a newline, so the diff does not report "no newline at end of file".
local function with_eol(text)
  text = text or ''
  if text ~= '' and text:sub(-1) ~= '\n' then
    return text .. '\n'
  end
  return text
end

local function scratch(name, lines, filetype)
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, name)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  if filetype and filetype ~= '' then
    vim.bo[buf].filetype = filetype
  end
  vim.keymap.set('n', 'q', '<Cmd>close<CR>', { buffer = buf, nowait = true, desc = 'Close' })
  return buf
end

--- Lines of a unified diff of the proposal, with a short header.
--- @param proposal table the tether/proposal result
--- @return string[]
function M.unified_lines(proposal)
  local path = field(proposal, 'path') or field(proposal, 'uri') or 'file'
  local original = with_eol(field(proposal, 'original'))
  local proposed = with_eol(field(proposal, 'proposed'))
  local lines = {
    ('# proposal %s  %s  task: %s  state: %s'):format(
      field(proposal, 'id') or '?',
      path,
      field(proposal, 'task') or '?',
      field(proposal, 'state') or '?'
    ),
  }
  local rationale = field(proposal, 'rationale')
  if rationale and rationale ~= '' then
    for _, l in ipairs(vim.split(vim.trim(rationale), '\n', { plain = true })) do
      lines[#lines + 1] = '# ' .. l
    end
  end
  -- Diffed here rather than taken from the server's `diff` field: a range that does not end
  -- in a newline makes difflib glue the last removed and added lines together.
  local text_diff = (vim.text and vim.text.diff) or vim.diff -- renamed after 0.11
  local body = text_diff(original, proposed, { ctxlen = 3 }) or ''
  if body ~= '' then
    body = ('--- a/%s\n+++ b/%s\n%s'):format(path, path, body)
  end
  if body == '' then
    lines[#lines + 1] = '# (no change)'
  end
  for _, l in ipairs(vim.split(body, '\n', { plain = true, trimempty = true })) do
    lines[#lines + 1] = l
  end
  return lines
end

--- Open the proposal in a split (unified) or a new tab (side by side).
--- @param proposal table
--- @param style 'unified'|'split'
function M.open(proposal, style)
  local id = field(proposal, 'id') or 'proposal'
  if style == 'split' then
    local ft = field(proposal, 'language') or ''
    local function lines_of(text)
      return vim.split(text or '', '\n', { plain = true })
    end
    vim.cmd('tabnew')
    scratch('tether://' .. id .. '/original', lines_of(field(proposal, 'original')), ft)
    vim.cmd('diffthis')
    vim.cmd('rightbelow vnew')
    scratch('tether://' .. id .. '/proposed', lines_of(field(proposal, 'proposed')), ft)
    vim.cmd('diffthis')
  else
    vim.cmd('botright new')
    scratch('tether://' .. id .. '.diff', M.unified_lines(proposal), 'diff')
  end
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'TetherDiffShown',
    modeline = false,
    data = { proposalId = id },
  })
end

--- Fetch a proposal and show its diff.
--- @param id string
--- @param opts? { close_win: integer?, style: ('unified'|'split')? }
function M.show_proposal(id, opts)
  opts = opts or {}
  local client = client_mod.require_client()
  if not client then
    return
  end
  client_mod.request(client, 'tether/proposal', { proposalId = id }, function(proposal)
    if type(proposal) ~= 'table' then
      client_mod.notify('proposal ' .. id .. ' not found', vim.log.levels.ERROR)
      return
    end
    if opts.close_win and vim.api.nvim_win_is_valid(opts.close_win) then
      vim.api.nvim_win_close(opts.close_win, true)
    end
    M.open(proposal, opts.style or config.options.history.diff)
  end)
end

return M
