"""Tether's own requests: history, profile, one proposal, and the server's status.

Params and results are the contract's models (`tether.protocol`): camelCase on the wire.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tether import __version__
from tether.lsp import lifecycle
from tether.lsp.errors import params_dict
from tether.lsp.names import HISTORY, PROFILE, PROPOSAL, STATUS
from tether.protocol.methods import PRODUCTION, STUDENTS
from tether.protocol.production import ProductionParams, ProductionResult
from tether.protocol.requests import (
    HistoryParams,
    ProfileResult,
    ProposalParams,
    StatusResult,
    WorkspaceParams,
)
from tether.protocol.students import StudentsResult
from tether.protocol.views import HistoryPageView, ProposalDetail
from tether.service import HEAVY_MODULES

if TYPE_CHECKING:
    from tether.lsp.context import Editor, Server

Handler = Callable[..., Awaitable[Any]]
#: Method -> handler(server, session, params); server.py registers them.
HANDLERS: dict[str, Handler] = {}


def request(method: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[method] = fn
        return fn

    return register


def heavy_modules_loaded() -> list[str]:
    return sorted(m for m in HEAVY_MODULES if m in sys.modules)


@request(HISTORY)
async def history(server: Server, session: Editor, params: Any) -> dict[str, Any]:
    p = HistoryParams.model_validate(params_dict(params))
    service = await session.service_for(p.uri)
    page = await service.history(p.filter, offset=p.offset, limit=p.limit)
    return HistoryPageView.model_validate(page.model_dump()).dump()


@request(PROFILE)
async def profile(server: Server, session: Editor, params: Any) -> dict[str, Any]:
    p = WorkspaceParams.model_validate(params_dict(params))
    service = await session.service_for(p.uri)
    body = await service.profile_view()
    body.update(await _living_tether(service))
    return ProfileResult.model_validate(body).dump()


async def _living_tether(service: Any) -> dict[str, Any]:
    """The profile's production tally and the student's savings (issue 15)."""
    from tether.publish import production
    from tether.publish.savings import savings

    saved = await savings(service.store, service.settings.teacher)
    return {
        "production": (await production.counts(service.store)).model_dump(),
        "savings": {**saved.model_dump(), "summary": saved.summary()},
    }


@request(STUDENTS)
async def students(server: Server, session: Editor, params: Any) -> dict[str, Any]:
    """What the model setting can name here: the embedded model, local engines' models
    (loopback probes with short timeouts), the published agent first."""
    from tether.serve.engines import discover, student_choices

    p = WorkspaceParams.model_validate(params_dict(params))
    service = await session.service_for(p.uri)
    current = service.settings.model
    choices = student_choices(await discover(), current)
    return StudentsResult.model_validate(
        {"current": current, "choices": [c.model_dump() for c in choices]}
    ).dump()


@request(PRODUCTION)
async def production_list(server: Server, session: Editor, params: Any) -> dict[str, Any]:
    """Decisions made through `tether serve`, newest first, each with its review."""
    from tether.publish import production

    p = ProductionParams.model_validate(params_dict(params))
    service = await session.service_for(p.uri)
    items = await production.items(service.store)
    shown = [i for i in reversed(items) if not p.pending_only or i.review == "pending"]
    return ProductionResult.model_validate(
        {
            "items": [i.model_dump() for i in shown[: p.limit]],
            "counts": (await production.counts(service.store)).model_dump(),
        }
    ).dump()


@request(PROPOSAL)
async def proposal(server: Server, session: Editor, params: Any) -> dict[str, Any]:
    p = ProposalParams.model_validate(params_dict(params))
    service = await session.service_of_proposal(p.proposal_id)
    return ProposalDetail.model_validate(await service.proposal_view(p.proposal_id)).dump()


@request(STATUS)
async def status(server: Server, session: Editor, params: Any) -> dict[str, Any]:
    """What the server is and has loaded (the heavy modules list must stay empty
    until a model or training is actually used)."""
    WorkspaceParams.model_validate(params_dict(params))
    return StatusResult.model_validate(
        {
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
            "memory": lifecycle.status(server),
        }
    ).dump()
