"""`tether serve`: the agent as an HTTP API (FastAPI + uvicorn), for programs outside the editor.

Nothing here is imported by the language server; FastAPI is imported only by `app`.
"""
