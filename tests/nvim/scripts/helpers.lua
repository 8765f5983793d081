-- Helpers for the headless Neovim tests: load the plugin from the repository, wait on
-- conditions, report results to pytest as JSON lines on stdout, stub interactive UI.
local H = {}

H.repo = assert(vim.env.TETHER_REPO, 'TETHER_REPO is not set')
H.python = assert(vim.env.TETHER_TEST_PYTHON, 'TETHER_TEST_PYTHON is not set')
H.notifications = {}
H.selects = {}
H.inputs = {}

--- One result line for pytest: {"key": ..., "value": ...}.
function H.emit(key, value)
  io.stdout:write(vim.json.encode({ key = key, value = value == nil and vim.NIL or value }) .. '\n')
  io.stdout:flush()
end

local function stop_clients()
  local clients = vim.lsp.get_clients()
  for _, client in ipairs(clients) do
    client:stop()
  end
  vim.wait(10000, function()
    return #vim.lsp.get_clients() == 0
  end, 20)
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
end

--- Stop with a message on stderr and exit code 1 (pytest shows both).
function H.fail(message)
  io.stderr:write('FAIL: ' .. message .. '\n')
  io.stderr:write('notifications: ' .. vim.inspect(H.notifications) .. '\n')
  stop_clients()
  os.exit(1)
end

function H.check(cond, message)
  if not cond then
    H.fail(message)
  end
  return cond
end

--- Whether an error was shown since the script started (or since H.errors_seen was reset).
H.errors_seen = 0
local function new_error()
  local errors = 0
  for _, n in ipairs(H.notifications) do
    if n.level >= vim.log.levels.ERROR then
      errors = errors + 1
    end
  end
  return errors > H.errors_seen
end

--- Wait until `cond()` is true, processing events meanwhile; fail naming `what` if it does
--- not come, or at once if an error is shown meanwhile (unless `opts.errors_ok`).
function H.wait(ms, cond, what, opts)
  local errors_ok = opts and opts.errors_ok
  local ok = vim.wait(ms, function()
    if not errors_ok and new_error() then
      return true
    end
    local good, value = pcall(cond)
    return good and value
  end, 10)
  if not errors_ok and new_error() then
    H.fail('an error was shown while waiting for ' .. what)
  end
  if not ok then
    H.fail('timed out after ' .. ms .. ' ms waiting for ' .. what)
  end
end

--- Put the plugin on 'runtimepath' and source its plugin/ file, as a plugin manager does.
--- Where the plugin is loaded from: the test's own copy (setup() may write doc/tags).
H.plugin_dir = vim.env.TETHER_PLUGIN_DIR or (H.repo .. '/client-nvim')

function H.load_plugin()
  vim.opt.rtp:prepend(H.plugin_dir)
  vim.cmd('runtime! plugin/tether.lua')
  -- Record every notification (and still print it to stderr for debugging).
  vim.notify = function(msg, level)
    table.insert(H.notifications, { msg = msg, level = level or vim.log.levels.INFO })
    io.stderr:write('notify: ' .. tostring(msg) .. '\n')
  end
end

--- load_plugin() + setup() with the test interpreter and no global mappings.
function H.setup(opts)
  H.load_plugin()
  local o = vim.tbl_deep_extend('force', { python = H.python }, opts or {})
  require('tether').setup(o)
end

--- vim.ui.select blocks when headless: answer with the item `choose(items)` returns,
--- recording each prompt (title + item labels) so tests can assert on it.
function H.stub_select(choose)
  vim.ui.select = function(items, opts, on_choice)
    opts = opts or {}
    local labels = {}
    for i, item in ipairs(items) do
      labels[i] = opts.format_item and opts.format_item(item) or tostring(item)
    end
    table.insert(H.selects, { prompt = opts.prompt, items = labels, kind = opts.kind })
    local pick = choose(items, labels, opts)
    local index
    for i, item in ipairs(items) do
      if item == pick then
        index = i
      end
    end
    on_choice(pick, index)
  end
end

--- Pick the item whose label matches a Lua pattern.
function H.by_label(pattern)
  return function(items, labels)
    for i, label in ipairs(labels) do
      if label:match(pattern) then
        return items[i]
      end
    end
    H.fail(('no choice matches %q among %s'):format(pattern, vim.inspect(labels)))
  end
end

--- vim.ui.input blocks when headless too: answer with `text`.
function H.stub_input(text)
  vim.ui.input = function(opts, on_confirm)
    table.insert(H.inputs, opts and opts.prompt)
    on_confirm(text)
  end
end

--- Open a file and wait until the Tether client is attached and initialized.
function H.open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local client
  H.wait(60000, function()
    if H.notified('^Client tether quit') then
      H.fail('the server exited: ' .. H.notified('^Client tether quit').msg)
    end
    client = vim.lsp.get_clients({ name = 'tether', bufnr = buf })[1]
    return client and client.initialized
  end, 'the tether client to attach to ' .. path)
  return buf, client
end

--- Tether diagnostics of a buffer.
function H.proposals(buf)
  return require('tether.proposals').diagnostics(buf)
end

--- The text of a buffer.
function H.text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

--- The 1-based number of the first line of a buffer that matches a Lua pattern.
function H.line_of(buf, pattern)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:match(pattern) then
      return i
    end
  end
  H.fail(('no line matches %q'):format(pattern))
end

--- Whether a notification matching a pattern was shown.
function H.notified(pattern)
  for _, n in ipairs(H.notifications) do
    if tostring(n.msg):match(pattern) then
      return n
    end
  end
  return nil
end

--- Stop the servers cleanly and exit 0 (the script's last call).
function H.done()
  H.emit('done', true)
  stop_clients()
  os.exit(0)
end

return H
