"""Tether's own requests: history, profile, one proposal, and the server's status."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tether import __version__
from tether.decisions import HistoryFilter
from tether.lsp.errors import params_dict
from tether.lsp.names import HISTORY, PROFILE, PROPOSAL, STATUS
from tether.service import HEAVY_MODULES

if TYPE_CHECKING:
    from tether.lsp.server import TetherServer
    from tether.lsp.session import Session

Handler = Callable[..., Awaitable[Any]]
#: Method -> handler(server, session, params); server.py registers them.
HANDLERS: dict[str, Handler] = {}


def request(method: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[method] = fn
        return fn

    return register


class HistoryParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=1000)
    filter: HistoryFilter | None = None
    uri: str | None = None

    @field_validator("filter", mode="before")
    @classmethod
    def _snake_case(cls, v: Any) -> Any:
        """Editors send classKey/adapterVersion; a single outcome may come as a string."""
        if not isinstance(v, dict):
            return v
        out = {
            "".join("_" + c.lower() if c.isupper() else c for c in k): val for k, val in v.items()
        }
        if isinstance(out.get("outcome"), str):
            out["outcome"] = [out["outcome"]]
        return out


class ProposalParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proposalId: str


class WorkspaceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uri: str | None = None


def heavy_modules_loaded() -> list[str]:
    return sorted(m for m in HEAVY_MODULES if m in sys.modules)


@request(HISTORY)
async def history(server: TetherServer, session: Session, params: Any) -> dict[str, Any]:
    p = HistoryParams.model_validate(params_dict(params))
    service = await session.service_for(p.uri)
    page = await service.history(p.filter, offset=p.offset, limit=p.limit)
    return {
        "items": [r.model_dump(mode="json") for r in page.items],
        "total": page.total,
        "offset": page.offset,
        "limit": page.limit,
    }


@request(PROFILE)
async def profile(server: TetherServer, session: Session, params: Any) -> dict[str, Any]:
    p = WorkspaceParams.model_validate(params_dict(params))
    service = await session.service_for(p.uri)
    return await service.profile_view()


@request(PROPOSAL)
async def proposal(server: TetherServer, session: Session, params: Any) -> dict[str, Any]:
    p = ProposalParams.model_validate(params_dict(params))
    service = await session.service_of_proposal(p.proposalId)
    return await service.proposal_view(p.proposalId)


@request(STATUS)
async def status(server: TetherServer, session: Session, params: Any) -> dict[str, Any]:
    """What the server is and has loaded (the heavy modules list must stay empty
    until a model or training is actually used)."""
    WorkspaceParams.model_validate(params_dict(params))
    return {
        "version": __version__,
        "pid": os.getpid(),
        "heavyModules": heavy_modules_loaded(),
        "workspaces": [
            {
                "root": str(f.root),
                "db": str(f.service.store.path) if f.service else None,
                "model": f.settings.model,
                "error": f.error,
            }
            for f in session.folders
        ],
    }
