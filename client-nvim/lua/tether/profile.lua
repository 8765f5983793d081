--- :TetherProfile: what the agent has learnt, per decision class, and its adapters.
local client_mod = require('tether.client')
local history = require('tether.history')
local ui = require('tether.ui')

local M = {}

local field = history.value

local function interval(r)
  local lo, hi = field(r, 'lower'), field(r, 'upper')
  if type(lo) == 'number' and type(hi) == 'number' then
    return ('%.2f–%.2f'):format(lo, hi)
  end
  return nil
end

local function metrics(r)
  local m = field(r, 'metrics')
  if type(m) ~= 'table' then
    return m
  end
  local parts = {}
  for k, v in vim.spairs(m) do
    if type(v) ~= 'table' then
      parts[#parts + 1] = ('%s=%s'):format(k, ui.cell(v))
    end
  end
  return table.concat(parts, ' ')
end

local CLASS_COLUMNS = {
  { key = 'classKey', title = 'class', max = 48 },
  { key = 'policy', title = 'policy' },
  { key = 'mean', title = 'approval' },
  { key = 'interval', title = 'interval', get = interval },
  { key = 'n', title = 'decisions' },
  { key = 'mature', title = 'mature' },
  { key = 'pin', title = 'pinned' },
}

local ADAPTER_COLUMNS = {
  { key = 'version', title = 'adapter' },
  { key = 'status', title = 'status' },
  {
    key = 'createdAt',
    title = 'created',
    get = function(r)
      return ui.when(field(r, 'createdAt'))
    end,
  },
  { key = 'parent', title = 'parent' },
  { key = 'metrics', title = 'metrics', max = 60, get = metrics },
}

--- The buffer text for a tether/profile result.
--- @param profile table
--- @return string[]
function M.render(profile)
  local lines = {}
  local classes = field(profile, 'classes') or {}
  lines[#lines + 1] = ('Decision classes (%d)'):format(#classes)
  if #classes == 0 then
    lines[#lines + 1] = '  none yet: accept or reject a few proposals'
  else
    vim.list_extend(lines, ui.table(classes, CLASS_COLUMNS))
  end
  lines[#lines + 1] = ''
  local adapters = field(profile, 'adapters') or {}
  lines[#lines + 1] = ('Adapters (%d)'):format(#adapters)
  if #adapters == 0 then
    lines[#lines + 1] = '  none trained yet (:TetherTrain)'
  else
    vim.list_extend(lines, ui.table(adapters, ADAPTER_COLUMNS))
  end
  local training = field(profile, 'training')
  if type(training) == 'table' and next(training) then
    lines[#lines + 1] = ''
    lines[#lines + 1] = 'Training'
    lines[#lines + 1] = '  state: ' .. ui.cell(field(training, 'state'))
    local message = field(training, 'message')
    if message and message ~= '' then
      lines[#lines + 1] = '  ' .. ui.cell(message)
    end
    local result = field(training, 'lastResult')
    if type(result) == 'table' then
      lines[#lines + 1] = '  last run: ' .. (require('tether.status').result_text(result))
    end
  end
  local summary = field(profile, 'profile')
  if type(summary) == 'table' then
    lines[#lines + 1] = ''
    lines[#lines + 1] = 'Profile'
    local keys = {
      { 'decisions', 'decisions' },
      { 'mature', 'mature' },
      { 'matureShare', 'mature share' },
      { 'autoThreshold', 'auto threshold' },
      { 'quietThreshold', 'quiet threshold' },
    }
    for _, pair in ipairs(keys) do
      local v = field(summary, pair[1])
      if v ~= nil then
        lines[#lines + 1] = ('  %s: %s'):format(pair[2], ui.cell(v))
      end
    end
  end
  local production = field(profile, 'production')
  local savings = field(profile, 'savings')
  if type(production) == 'table' or type(savings) == 'table' then
    lines[#lines + 1] = ''
    lines[#lines + 1] = 'Production and savings'
  end
  if type(production) == 'table' then
    lines[#lines + 1] = ('  from tether serve: %d awaiting review (:TetherReview), %d confirmed, %d overturned, %d discarded')
      :format(production.pending or 0, production.confirmed or 0, production.overturned or 0, production.discarded or 0)
  end
  if type(savings) == 'table' and field(savings, 'summary') then
    lines[#lines + 1] = '  ' .. field(savings, 'summary')
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = 'q close'
  return lines
end

--- Open the profile window.
function M.open()
  local client = client_mod.require_client()
  if not client then
    return
  end
  client_mod.request(client, 'tether/profile', vim.empty_dict(), function(profile)
    ui.float(M.render(profile or {}), { title = 'Tether profile', filetype = 'tetherprofile' })
    vim.api.nvim_exec_autocmds('User', { pattern = 'TetherProfileShown', modeline = false })
  end)
end

return M
