"""The starter `.tether/agent.md` that `tether init` writes: every key shown and explained."""

from __future__ import annotations

STARTER_AGENT_MD = """\
---
# The agent spec for this workspace (Tether reads it on start and when it changes).
# Everything below is optional: delete a key to get its default. Errors name the line.

# A short name, shown in the editor and in exports.
name: my-agent

# Tasks: what the agent can be asked to do. Each has a title (the editor's menu entry),
# an instruction (what the model is told), `when` it is offered, and optionally
# `keeps_code: true` (answers that change more than docstrings and comments are dropped).
# `when` is a list of:
#   selection  - as a code action on selected lines
#   diagnostic - as a quick fix on a problem the editor reports
#   save       - when a file is saved (if review_on_save is on)
#   command    - only from the command palette / :Tether commands
tasks:
  improve:
    title: "Tether: Improve"
    instruction: >-
      Improve the selected code: make it clearer and more idiomatic (f-strings,
      pathlib, `is None`, type hints) without changing what it does.
    when: [selection]
  document:
    title: "Tether: Document"
    instruction: >-
      Add or improve docstrings and comments so a new reader understands why the code
      exists and how to use it. Do not change the code itself.
    when: [selection]
    keeps_code: true    # only docstrings and comments may change (checked)
  fix:
    title: "Tether: Fix this diagnostic"
    instruction: >-
      Fix the problem the diagnostics report in the selected code with the smallest
      correct change.
    when: [diagnostic]

# Tools the agent may use. It always edits files in this workspace (through proposals
# you accept); `commands` is an allowlist of commands it may run (arguments may follow).
tools:
  edit: true
  commands: []          # e.g. ["pytest -q", "ruff check"]

# Boundaries are hard rules: no learning, pin or policy can override them.
boundaries:
  never_touch: []       # path globs never edited, e.g. ["migrations/**", "vendor/**"]
  max_lines: 200        # most changed lines in one edit
  never_send: []        # path globs never sent to a cloud teacher (.env, *.pem, *.key,
                        # secrets/** are never sent whatever this says)
  always_ask: []        # tasks that always ask, however confident the profile is
  redact: []            # extra regexes removed before any teacher call
---
Describe here, in plain language, what this agent is for and how it should behave:
the style you like, what to leave alone, what matters in this codebase. The model reads
this text before every request.
"""
