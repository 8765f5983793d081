--- Registering the language server with Neovim's built-in client.
---
--- 0.11+: `vim.lsp.config` + `vim.lsp.enable` (Neovim starts the client per filetype).
--- 0.10: a FileType autocommand calling `vim.lsp.start` (which reuses a running client).
local client_mod = require('tether.client')
local config = require('tether.config')
local status = require('tether.status')

local M = {}

M.group = vim.api.nvim_create_augroup('tether', { clear = true })

--- The workspace root for a buffer: the nearest root marker, else the working directory,
--- so the server always knows which workspace (and so which decision store) it serves.
--- @param bufnr integer
--- @return string
function M.root_for(bufnr)
  local markers = config.options.root_markers
  local root
  if vim.fs.root then
    root = vim.fs.root(bufnr, markers)
  else
    local name = vim.api.nvim_buf_get_name(bufnr)
    local found = vim.fs.find(markers, { path = vim.fs.dirname(name), upward = true })[1]
    root = found and vim.fs.dirname(found)
  end
  return root or vim.fn.getcwd()
end

--- Client-side handlers for server commands that are better done with Neovim's own UI.
--- Neovim runs these instead of sending `workspace/executeCommand` when a code action
--- carries the command; they forward to the server themselves.
--- @return table<string, fun(command: lsp.Command, ctx: table)>
function M.client_commands()
  local function arg0(command)
    local a = command.arguments and command.arguments[1]
    return type(a) == 'table' and a or {}
  end
  return {
    -- "Reject with reason…": the server can only offer a fixed list through
    -- showMessageRequest; here the user types the reason (vim.ui.input).
    ['tether.reject'] = function(command, ctx)
      local a = arg0(command)
      local proposals = require('tether.proposals')
      if a.askReason and not a.reason then
        proposals.reject_with_reason({ id = a.proposalId, bufnr = ctx.bufnr })
      else
        proposals.reject({ id = a.proposalId, reason = a.reason, bufnr = ctx.bufnr })
      end
    end,
    -- The agent's code actions: sent as they are, but a failure is shown in the server's
    -- words with its actions (Retry…), not as a bare RPC error.
    ['tether.propose'] = function(command, ctx)
      local client = client_mod.get(ctx.bufnr)
      if client then
        client_mod.exec(client, command.command, arg0(command), nil, ctx.bufnr)
      end
    end,
    ['tether.regenerate'] = function(command, ctx)
      require('tether.proposals').replace({ id = arg0(command).proposalId, bufnr = ctx.bufnr })
    end,
    -- "Refine…": the code action carries no words; ask for them (vim.ui.input).
    ['tether.refine'] = function(command, ctx)
      local a = arg0(command)
      require('tether.proposals').replace({
        id = a.proposalId, instruction = a.instruction, refine = true, bufnr = ctx.bufnr,
      })
    end,
    -- "Show diff": a diff buffer in a split instead of a long message.
    ['tether.showDiff'] = function(command)
      require('tether.diff').show_proposal(arg0(command).proposalId)
    end,
  }
end

--- The client configuration (the same table on 0.10 and 0.11).
--- @return table
function M.client_config()
  local opts = config.options
  local settings = config.server_settings(opts)
  local env = vim.deepcopy(opts.env or {})
  local cfg = {
    name = client_mod.name,
    cmd = config.server_cmd(opts),
    cmd_env = next(env) and env or nil,
    filetypes = opts.filetypes or nil,
    root_markers = opts.root_markers,
    init_options = settings,
    settings = { tether = settings },
    handlers = status.handlers(),
    commands = M.client_commands(),
  }
  return cfg
end

--- Buffer-local mappings from the keymaps option.
--- @param bufnr integer
function M.set_keymaps(bufnr)
  local keymaps = config.options.keymaps
  if not keymaps then
    return
  end
  local tether = require('tether')
  local actions = {
    accept = { tether.accept, 'Tether: accept the proposal under the cursor' },
    reject = { tether.reject, 'Tether: reject the proposal under the cursor' },
    propose = { vim.lsp.buf.code_action, 'Tether: ask for a proposal (code actions)' },
    pending = { tether.pending, 'Tether: pending proposals' },
    history = { tether.history, 'Tether: decision history' },
    profile = { tether.profile, 'Tether: profile' },
    train = { tether.train, 'Tether: train now' },
  }
  for name, lhs in pairs(keymaps) do
    local action = actions[name]
    if lhs and action then
      local modes = name == 'propose' and { 'n', 'x' } or 'n'
      vim.keymap.set(modes, lhs, function() action[1]() end, { buffer = bufnr, desc = action[2] })
    end
  end
end

local function filetype_matches(bufnr)
  local fts = config.options.filetypes
  return not fts or vim.tbl_contains(fts, vim.bo[bufnr].filetype)
end

--- 0.10: start (or reuse) the client for a buffer.
--- @param bufnr integer
local function start_legacy(bufnr)
  if vim.bo[bufnr].buftype ~= '' or not filetype_matches(bufnr) then
    return
  end
  local cfg = M.client_config()
  cfg.root_dir = M.root_for(bufnr)
  cfg.root_markers = nil
  cfg.filetypes = nil
  vim.lsp.start(cfg, { bufnr = bufnr })
end

--- Register and enable the server; idempotent (a second setup() replaces the first).
function M.register()
  vim.api.nvim_clear_autocmds({ group = M.group })
  status.attach_autocmds(M.group)
  vim.api.nvim_create_autocmd('LspAttach', {
    group = M.group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == client_mod.name then
        M.set_keymaps(args.buf)
        vim.api.nvim_exec_autocmds('User', {
          pattern = 'TetherAttached',
          modeline = false,
          data = { client_id = client.id, bufnr = args.buf },
        })
      end
    end,
  })
  if vim.lsp.config and vim.lsp.enable then
    local cfg = M.client_config()
    cfg.root_dir = function(bufnr, on_dir)
      on_dir(M.root_for(bufnr))
    end
    -- Assign rather than call: a second setup() replaces lists (filetypes) instead of merging
    -- them index by index. Call vim.lsp.config("tether", {...}) after setup() to add to it.
    vim.lsp.config[client_mod.name] = cfg
    vim.lsp.enable(client_mod.name)
    return
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = M.group,
    callback = function(args)
      start_legacy(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= '' then
      start_legacy(bufnr)
    end
  end
end

return M
