"""The language server: LSP in, calls on `tether.service.TetherService` out.

Nothing here decides anything about proposals or decisions; it translates between
lsprotocol types and the core's, and drives the editor (diagnostics, applyEdit, prompts,
progress). Importing this package imports nothing heavy.
"""
