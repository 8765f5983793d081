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
        local what = method == 'workspace/executeCommand' and params.command or method
        M.notify(what .. ' failed: ' .. M.error_message(err), vim.log.levels.ERROR)
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
