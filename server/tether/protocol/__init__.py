"""The one client–server message contract: every command argument, request, response and
notification as a pydantic model with camelCase names on the wire.

Pure pydantic (no pygls), so the language server, tests and the code generator share it;
`python -m tether.protocol.codegen` writes the JSON Schema, the VS Code TypeScript types
and the Neovim Lua annotations from `catalogue.MESSAGES`.
"""
