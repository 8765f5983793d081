--- Finding the Tether client and talking to it: requests and server commands.
---
--- Every call goes through `workspace/executeCommand` or a plain request so the same code
--- runs on Neovim 0.10 (dot-call client methods) and 0.11+ (colon-call methods).
local M = {}

M.name = 'tether'

local has_011 = vim.fn.has('nvim-0.11') == 1

--- @param opts? { bufnr: integer? }
--- @return vim.lsp.Client[]
function M.clients(opts)
  local filter = { name = M.name }
  if opts and opts.bufnr then
    filter.bufnr = opts.bufnr
  end
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  return get(filter)
end

--- The client for a buffer: the one attached to it, else any running Tether client.
--- @param bufnr integer?
--- @return vim.lsp.Client?
function M.get(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return M.clients({ bufnr = bufnr })[1] or M.clients()[1]
end

--- @param message string
--- @param level integer?
function M.notify(message, level)
  vim.notify('Tether: ' .. message, level or vim.log.levels.INFO, { title = 'Tether' })
end

--- A readable message for an LSP error response.
--- @param err table|string
--- @return string
function M.error_message(err)
  local text = type(err) == 'table' and tostring(err.message or vim.inspect(err)) or tostring(err)
  return (text:gsub('^Tether:%s*', '')) -- the server's messages already name it
end

--- The actions the server's message catalogue offers with an error (`data.message.actions`:
--- {id, title}: retry, selectEnclosingFunction, rephrase, openSettings, openSpec, showLog…).
--- @param err table|string
--- @return { id: string, title: string }[]
function M.error_actions(err)
  local data = type(err) == 'table' and err.data
  local message = type(data) == 'table' and data.message
  local actions = type(message) == 'table' and message.actions
  local out = {}
  for _, a in ipairs(type(actions) == 'table' and actions or {}) do
    if type(a) == 'table' and type(a.id) == 'string' and type(a.title) == 'string' then
      out[#out + 1] = { id = a.id, title = a.title }
    end
  end
  return out
end

--- Whether an error is the user's own cancel (nothing to show).
--- @param err table|string
--- @return boolean
function M.is_cancel(err)
  return type(err) == 'table' and err.code == -32800
end

--- Show a failure in the server's words, then offer its actions (vim.ui.select) when there
--- are any this client can carry out. `hooks.retry(argument?)` re-sends the request (with a
--- wider range for "select enclosing function"); `hooks.rephrase()` asks in the user's words.
--- @param err table|string
--- @param hooks? { retry: fun(widen: boolean?)?, rephrase: fun()? }
function M.show_error(err, hooks)
  if M.is_cancel(err) then
    return
  end
  hooks = hooks or {}
  M.notify(M.error_message(err), vim.log.levels.ERROR)
  local doable = {
    retry = hooks.retry and function() hooks.retry(false) end,
    selectEnclosingFunction = hooks.retry and function() hooks.retry(true) end,
    rephrase = hooks.rephrase,
    openSettings = function() vim.cmd('help tether-setup') end,
    openSpec = function() vim.cmd('edit .tether/agent.md') end,
    showLog = function() vim.cmd(vim.fn.exists(':LspLog') == 2 and 'LspLog' or 'checkhealth tether') end,
  }
  local offered = {}
  for _, a in ipairs(M.error_actions(err)) do
    if doable[a.id] then
      offered[#offered + 1] = a
    end
  end
  if #offered == 0 then
    return
  end
  vim.schedule(function()
    vim.ui.select(offered, {
      prompt = 'Tether: what now?',
      format_item = function(a) return a.title end,
      kind = 'tether_error',
    }, function(choice)
      if choice then
        doable[choice.id]()
      end
    end)
  end)
end

--- The client, or a message saying none runs; callers stop when it returns nil.
--- @param bufnr integer?
--- @return vim.lsp.Client?
function M.require_client(bufnr)
  local client = M.get(bufnr)
  if not client then
    M.notify(
      'the language server is not running (open a file of a configured filetype, '
        .. 'and see :checkhealth tether)',
      vim.log.levels.ERROR
    )
  end
  return client
end

--- Send a request; `on_result(result)` runs only on success, errors are shown.
--- @param client vim.lsp.Client
--- @param method string
--- @param params table?
--- @param on_result fun(result: any)?
--- @param bufnr integer?
--- @param on_error fun(err: any)?
function M.request(client, method, params, on_result, bufnr, on_error)
  local function handler(err, result)
    if err then
      if on_error then
        on_error(err)
      else
        M.show_error(err, {
          retry = function()
            M.request(client, method, params, on_result, bufnr)
          end,
        })
      end
      return
    end
    if on_result then
      on_result(result)
    end
  end
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- Run a server command (`tether.accept`…) with one object argument.
--- @param client vim.lsp.Client
--- @param command string
--- @param argument table?
--- @param on_result fun(result: any)?
--- @param bufnr integer?
--- @param on_error fun(err: any)?
function M.exec(client, command, argument, on_result, bufnr, on_error)
  local params = { command = command, arguments = argument and { argument } or {} }
  return M.request(client, 'workspace/executeCommand', params, on_result, bufnr, on_error)
end

return M
