--- The :Tether* user commands. Defined by plugin/tether.lua at start-up and again by
--- setup() (idempotent), so a plugin manager that adds the plugin to 'runtimepath' late,
--- after plugin/ files were sourced, still gets them.
local M = {}

function M.register()
  local function command(name, fn, opts)
    vim.api.nvim_create_user_command(name, fn, opts)
  end

  command('TetherTrain', function()
    require('tether').train()
  end, { desc = 'Tether: train an adapter now (progress in the echo area and statusline)' })

  command('TetherCancelTraining', function()
    require('tether').cancel_training()
  end, { desc = 'Tether: cancel the running training job' })

  command('TetherHistory', function(args)
    require('tether').history({ search = args.args })
  end, { nargs = '?', desc = 'Tether: decision history (optional search text)' })

  command('TetherReview', function()
    require('tether').review()
  end, { desc = 'Tether: review decisions made through tether serve (confirm / overturn / discard)' })

  command('TetherProfile', function()
    require('tether').profile()
  end, { desc = 'Tether: the learnt profile and adapters' })

  command('TetherAccept', function(args)
    local hunks = {}
    for _, n in ipairs(args.fargs) do
      local number = tonumber(n)
      if not number or number < 1 or number % 1 ~= 0 then
        vim.notify('Tether: hunk numbers start at 1, got ' .. n, vim.log.levels.ERROR)
        return
      end
      hunks[#hunks + 1] = number - 1
    end
    require('tether').accept({ hunks = hunks })
  end, { nargs = '*', desc = 'Tether: accept the proposal under the cursor [hunk numbers]' })

  command('TetherReject', function(args)
    require('tether').reject({ reason = args.args })
  end, { nargs = '?', desc = 'Tether: reject the proposal under the cursor [reason]' })

  command('TetherPending', function()
    require('tether').pending()
  end, { desc = 'Tether: pending proposals in the quickfix list' })

  command('TetherVerify', function()
    require('tether').verify()
  end, { desc = "Tether: verify the decision log's hash chain" })

  command('TetherDiff', function(args)
    require('tether').diff({ style = args.bang and 'split' or nil })
  end, { bang = true, desc = 'Tether: diff of the proposal under the cursor (! side by side)' })

  command('TetherPropose', function(args)
    if args.args == '' then
      vim.notify('Tether: :TetherPropose needs a task, for example :TetherPropose improve',
        vim.log.levels.ERROR)
      return
    end
    require('tether').propose({
      task = args.args,
      start_row = args.line1 - 1,
      end_row = args.line2,
    })
  end, { nargs = '?', range = true, desc = 'Tether: ask the agent for a proposal on the range' })

  command('TetherAsk', function(args)
    require('tether').ask({
      instruction = args.args,
      start_row = args.line1 - 1,
      end_row = args.line2,
    })
  end, {
    nargs = '?',
    range = true,
    desc = 'Tether: a request in your own words on the range (:TetherAsk make it iterative)',
  })

  command('TetherRegenerate', function()
    require('tether').regenerate()
  end, { desc = 'Tether: another answer instead of the proposal under the cursor' })

  command('TetherRefine', function(args)
    require('tether').refine({ instruction = args.args })
  end, { nargs = '?', desc = 'Tether: say what should change in the proposal under the cursor' })

  command('TetherPin', function(args)
    local class_key, mode = args.fargs[1], args.fargs[2]
    if not class_key or not mode then
      vim.notify(
        'Tether: usage :TetherPin {class} {always_ask|never_auto|clear}',
        vim.log.levels.ERROR
      )
      return
    end
    require('tether').pin(class_key, mode ~= 'clear' and mode or nil)
  end, {
    nargs = '+',
    complete = function(arglead, cmdline)
      local n = #vim.split(cmdline, '%s+', { trimempty = true })
      if n >= 2 and not (n == 2 and arglead ~= '') then
        return vim.tbl_filter(function(m)
          return vim.startswith(m, arglead)
        end, { 'always_ask', 'never_auto', 'clear' })
      end
      return {}
    end,
    desc = "Tether: pin a decision class's policy",
  })
end

return M
