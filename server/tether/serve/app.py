"""The FastAPI application of `tether serve`.

Routes: `GET /health` (no token), `GET /v1/models`, `POST /v1/chat/completions`
(OpenAI-compatible), `POST /v1/propose` (the agent: a verified proposal and what the
profile would do with it) and `POST /v1/decisions` (a client's verdict on such a proposal,
recorded as a production decision awaiting a user's review; see
`tether.publish.production`). Every route but health needs `Authorization: Bearer TOKEN`.
Errors are JSON `{"error": {"type", "message", "status"}}` with a message for a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tether import __version__
from tether.agent.agent import Agent, AgentRequest, ProposeResult
from tether.agent.providers.base import Provider, ProviderError
from tether.config import Settings
from tether.core.text import position_at
from tether.core.types import Position, Range
from tether.publish import production
from tether.serve import auth
from tether.serve.limits import BodyLimit, RateLimiter
from tether.serve.models import (
    ChatRequest,
    DecisionRequest,
    DecisionResponse,
    ProposalOut,
    ProposeRequest,
    ProposeResponse,
)
from tether.service import ProposeOutcome, ServiceError, TetherService

#: The token id of the request being served, for tagging the proposals the agent makes.
_CLIENT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tether_api_client", default=None
)


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


class ApiAgent(Agent):
    """The workspace's agent, marking what it proposes for an API client as such."""

    async def propose(
        self, req: AgentRequest, cancel: asyncio.Event | None = None
    ) -> ProposeResult:
        result = await super().propose(req, cancel=cancel)
        client = _CLIENT.get()
        for proposal in result.proposals:
            proposal.meta = {**proposal.meta, "channel": "api", "token_id": client}
        return result


@dataclass
class ServeState:
    workspace: Path
    settings: Settings
    token: str
    student: Provider | None = None  # an engine; None: the in-process student
    service: TetherService | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    versions: int = 0

    @property
    def token_id(self) -> str:
        return auth.token_id(self.token)


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"type": kind, "message": message, "status": status}}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        if err.get("type") == "json_invalid":
            return "the body is not valid JSON; send a JSON object"
        if err.get("type") == "extra_forbidden":
            parts.append(f"`{where}` is not a field of this request")
        elif err.get("type") == "missing":
            parts.append(f"`{where}` is required")
        else:
            parts.append(f"`{where or 'body'}`: {err.get('msg', 'is not valid')}")
    return "; ".join(parts) + " (see the API's request schema at /docs)"


def create_app(state: ServeState) -> FastAPI:
    limiter = RateLimiter(state.settings.serve.rate_limit_per_minute)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await TetherService.open(state.workspace, state.settings)

        async def active_adapter() -> tuple[str, Path] | None:
            row = await service.store.active_adapter()
            return (row.version, Path(row.path)) if row is not None else None

        agent = ApiAgent(
            state.settings,
            service.spec(),
            await service.memory(),
            service.workspace,
            active_adapter,
            student=state.student,
        )
        service.use_agent(agent)
        state.service = service
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(
        title="Tether",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.kind, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, "bad_request", _validation_message(exc))

    async def client(request: Request) -> str:
        if not auth.matches(state.token, request.headers.get("authorization")):
            raise ApiError(
                401,
                "unauthorized",
                "missing or wrong bearer token: send `Authorization: Bearer TOKEN` with the "
                "token `tether serve` printed (stored in the workspace's serve-token file)",
            )
        wait = limiter.check(state.token_id)
        if wait is not None:
            raise ApiError(
                429,
                "rate_limited",
                f"over {limiter.per_minute} requests a minute (serve.rate_limit_per_minute); "
                f"retry in {wait:.0f} s",
            )
        return state.token_id

    def service() -> TetherService:
        assert state.service is not None, "the service opens in the app's lifespan"
        return state.service

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "version": __version__}

    @app.get("/v1/models")
    async def models(who: str = Depends(client)) -> dict[str, Any]:
        student = (await service().agent()).student
        return {
            "object": "list",
            "data": [
                {"id": "tether", "object": "model", "owned_by": "tether", "root": student.model_id}
            ],
        }

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest, who: str = Depends(client)) -> dict[str, Any]:
        if body.stream:
            raise ApiError(400, "bad_request", "streaming is not supported; send stream: false")
        student = (await service().agent()).student
        limit = body.max_completion_tokens or body.max_tokens or state.settings.max_new_tokens
        temperature = state.settings.temperature if body.temperature is None else body.temperature
        messages = [m.model_dump() for m in body.messages]
        try:
            gen = await student.generate(
                messages, n=body.n, max_new_tokens=limit, temperature=temperature
            )
        except ProviderError as exc:
            raise ApiError(503, "model_unavailable", str(exc)) from None
        reasons = gen.finish_reasons or ["stop"] * len(gen.completions)
        return {
            "id": "chatcmpl-" + uuid.uuid4().hex,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": gen.model,
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": reasons[i] if i < len(reasons) else "stop",
                }
                for i, text in enumerate(gen.completions)
            ],
            "system_fingerprint": gen.adapter_version,
        }

    @app.post("/v1/propose")
    async def propose(body: ProposeRequest, who: str = Depends(client)) -> ProposeResponse:
        return await _propose(state, service(), body, who)

    @app.post("/v1/decisions")
    async def decide(body: DecisionRequest, who: str = Depends(client)) -> DecisionResponse:
        svc = service()
        try:
            record = await production.record_decision(
                svc.store,
                body.proposal_id,
                body.decision,
                token_id=who,
                text=body.text,
                reason=body.reason,
            )
        except production.ProductionError as exc:
            kind = "unknown_proposal" if exc.status == 404 else "conflict"
            raise ApiError(exc.status, kind, str(exc)) from None
        svc.events.decision_recorded(record)
        return DecisionResponse(
            seq=record.seq,
            proposal_id=body.proposal_id,
            outcome=record.outcome.value,
            review="pending",
            token_id=who,
        )

    return BodyLimit(app, state.settings.serve.max_body_bytes)  # type: ignore[return-value]


def _inside(workspace: Path, path: str) -> Path:
    target = (workspace / path).resolve()
    if not target.is_relative_to(workspace):
        raise ApiError(400, "bad_request", f"{path!r} is outside the workspace")
    return target


async def _propose(
    state: ServeState, svc: TetherService, body: ProposeRequest, who: str
) -> ProposeResponse:
    if body.code is None and body.path is None:
        raise ApiError(
            400, "bad_request", "send `code` (the text to work on) or a workspace `path`"
        )
    target = _inside(svc.workspace, body.path or "snippet.py")
    uri = target.as_uri()
    outcome: ProposeOutcome | None = None
    async with state.lock:  # API documents share the service's view: one request at a time
        opened = body.code is not None
        try:
            if opened:
                state.versions += 1
                language = body.language or {".py": "python"}.get(target.suffix, "python")
                svc.open_document(uri, language, state.versions, body.code or "")
            text = svc.document(uri).text if opened else None
            rng = body.range
            if rng is None:
                if text is None:
                    text = target.read_text(encoding="utf-8") if target.is_file() else ""
                rng = Range(start=Position(line=0, character=0), end=position_at(text, len(text)))
            req = svc.request_for(uri, rng, body.task)
            if body.instruction:
                req.instruction = body.instruction
            token = _CLIENT.set(who)
            try:
                outcome = await svc.propose(req)
            finally:
                _CLIENT.reset(token)
        except ServiceError as exc:
            status = 503 if exc.kind == "agent_failed" else 400
            raise ApiError(status, exc.kind, str(exc)) from None
        finally:
            for planned in outcome.proposals if outcome is not None else []:
                svc.hide(planned.proposal)  # decided through the API, never shown in an editor
            if opened:
                await svc.close_document(uri)
    return ProposeResponse(
        proposals=[
            ProposalOut(
                id=p.proposal.id,
                path=p.proposal.path,
                range=p.proposal.range,
                task=p.proposal.task,
                kind=p.proposal.kind,
                class_key=p.proposal.class_key,
                original=p.proposal.original,
                proposed=p.proposal.proposed,
                rationale=p.proposal.rationale,
                model=p.proposal.model,
                adapter_version=p.proposal.adapter_version,
                mode=p.decision.mode,
                reason=p.decision.reason,
            )
            for p in outcome.proposals
        ],
        failures=outcome.failures,
    )
