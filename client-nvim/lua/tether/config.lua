--- Options of the plugin: defaults, merging and validation.
---
--- Kept apart from the rest so `:checkhealth tether` and the LSP set-up read the same
--- resolved values (the interpreter especially) without starting anything.
local M = {}

--- @class tether.Keymaps
--- @field accept string|false
--- @field reject string|false
--- @field propose string|false
--- @field pending string|false
--- @field history string|false
--- @field profile string|false
--- @field train string|false

--- @class tether.Options
--- @field python string? Interpreter that has the `tether` package (nil: detect).
--- @field cmd string[]? Full server command; overrides `python`.
--- @field model string? Model spec sent to the server (`embedded:smollm2`, `ollama:NAME`…).
--- @field settings table Extra server settings, sent as initializationOptions.
--- @field env table<string,string> Extra environment variables for the server process.
--- @field filetypes string[]|false Filetypes to attach to (false: every filetype).
--- @field root_markers string[] Files or folders that mark a workspace root.
--- @field keymaps tether.Keymaps|false Buffer-local mappings set on attach (false: none).
--- @field progress { echo: boolean } Show training progress in the echo area.
--- @field history { page_size: integer, diff: 'unified'|'split', layout: 'float'|'split' }
--- @field float { border: string|string[], width: number, height: number }

--- @type tether.Options
M.defaults = {
  python = nil,
  cmd = nil,
  model = nil,
  settings = {},
  env = {},
  filetypes = {
    'python', 'lua', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact',
    'go', 'rust', 'c', 'cpp', 'java', 'kotlin', 'ruby', 'php', 'sh', 'bash', 'zsh',
    'cs', 'swift', 'scala', 'elixir', 'haskell', 'ocaml', 'sql', 'markdown', 'toml',
    'yaml', 'json', 'html', 'css', 'vim', 'zig', 'r', 'julia', 'dart',
  },
  root_markers = { 'tether.toml', '.tether', '.git' },
  keymaps = {
    accept = '<leader>ta',
    reject = '<leader>tr',
    propose = '<leader>ts',
    pending = '<leader>tq',
    history = '<leader>th',
    profile = '<leader>tp',
    train = '<leader>tT',
  },
  progress = { echo = true },
  history = { page_size = 50, diff = 'unified', layout = 'float' },
  float = { border = 'rounded', width = 0.85, height = 0.7 },
}

--- Keys whose values are lists or whole values: the user's value replaces the default
--- instead of being merged index by index.
local REPLACED = { cmd = true, filetypes = true, root_markers = true, settings = true, env = true }

--- @type tether.Options
M.options = vim.deepcopy(M.defaults)

--- Whether `setup()` has run (health reports it).
M.configured = false

--- Type check that reads the same on 0.10 and 0.11 (vim.validate changed its signature).
--- @param name string
--- @param value any
--- @param types string|string[]
--- @param optional boolean?
local function check(name, value, types, optional)
  if value == nil and optional then
    return
  end
  types = type(types) == 'table' and types or { types }
  if not vim.tbl_contains(types, type(value)) then
    error(('%s: expected %s, got %s'):format(name, table.concat(types, ' or '), type(value)), 0)
  end
end

local function validate(opts)
  check('python', opts.python, 'string', true)
  check('cmd', opts.cmd, 'table', true)
  check('model', opts.model, 'string', true)
  check('settings', opts.settings, 'table')
  check('env', opts.env, 'table')
  check('filetypes', opts.filetypes, { 'table', 'boolean' })
  check('root_markers', opts.root_markers, 'table')
  check('keymaps', opts.keymaps, { 'table', 'boolean' })
  check('progress', opts.progress, 'table')
  check('history', opts.history, 'table')
  check('float', opts.float, 'table')
  if opts.filetypes == true then
    error('filetypes: expected a list of filetypes, or false for every filetype', 0)
  end
  if opts.keymaps == true then
    error('keymaps: expected a table of mappings, or false for none', 0)
  end
  if opts.history.diff ~= 'unified' and opts.history.diff ~= 'split' then
    error(("history.diff: expected 'unified' or 'split', got %q"):format(opts.history.diff), 0)
  end
  if opts.history.layout ~= 'float' and opts.history.layout ~= 'split' then
    error(("history.layout: expected 'float' or 'split', got %q"):format(opts.history.layout), 0)
  end
  if type(opts.history.page_size) ~= 'number' or opts.history.page_size < 1 then
    error('history.page_size: expected a positive number', 0)
  end
end

--- Merge user options over the defaults; raises a message naming the bad option.
--- @param user table?
--- @return tether.Options
function M.resolve(user)
  user = user or {}
  check('opts', user, 'table')
  local merged = vim.deepcopy(M.defaults)
  for key, value in pairs(user) do
    if M.defaults[key] == nil and key ~= 'python' and key ~= 'cmd' and key ~= 'model' then
      error(('tether: unknown option %q'):format(key), 0)
    end
    if REPLACED[key] or type(value) ~= 'table' or type(merged[key]) ~= 'table' then
      merged[key] = vim.deepcopy(value)
    else
      merged[key] = vim.tbl_deep_extend('force', merged[key], value)
    end
  end
  local ok, err = pcall(validate, merged)
  if not ok then
    error('tether: invalid option: ' .. tostring(err), 0)
  end
  return merged
end

--- @param user table?
function M.set(user)
  M.options = M.resolve(user)
  M.configured = true
  return M.options
end

--- The first line of a script, when it is a `#!` line naming an interpreter.
--- @param path string
--- @return string?
local function shebang_interpreter(path)
  local f = io.open(path, 'r')
  if not f then
    return nil
  end
  local first = f:read('*l') or ''
  f:close()
  local interp = first:match('^#!%s*(%S+)')
  if interp and not interp:match('/env$') and vim.fn.executable(interp) == 1 then
    return interp
  end
  return nil
end

--- The Python interpreter the server runs under, and how it was found.
--- Order: `python` option, the active virtualenv, the interpreter of a `tether` script on
--- PATH, then `python3`.
--- @param opts tether.Options?
--- @return string python, string source
function M.interpreter(opts)
  opts = opts or M.options
  if opts.python then
    return vim.fn.expand(opts.python), 'the python option'
  end
  local venv = vim.env.VIRTUAL_ENV
  if venv and venv ~= '' then
    local candidate = venv .. '/bin/python'
    if vim.fn.executable(candidate) == 1 then
      return candidate, '$VIRTUAL_ENV'
    end
  end
  local script = vim.fn.exepath('tether')
  if script ~= '' then
    local interp = shebang_interpreter(script)
    if interp then
      return interp, 'the tether command on PATH (' .. script .. ')'
    end
  end
  return 'python3', 'the default (python3 on PATH)'
end

--- The server command.
--- @param opts tether.Options?
--- @return string[]
function M.server_cmd(opts)
  opts = opts or M.options
  if opts.cmd then
    return vim.deepcopy(opts.cmd)
  end
  local python = M.interpreter(opts)
  return { python, '-m', 'tether', 'lsp' }
end

--- Settings the server receives (initializationOptions and workspace/configuration).
--- @param opts tether.Options?
--- @return table
function M.server_settings(opts)
  opts = opts or M.options
  local settings = vim.deepcopy(opts.settings or {})
  if opts.model then
    settings.model = opts.model
  end
  if next(settings) == nil then
    return vim.empty_dict() -- an empty Lua table would be sent as [] (not an object)
  end
  return settings
end

return M
