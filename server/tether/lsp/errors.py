"""Service and validation errors as JSON-RPC error responses the editor can show as is."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from lsprotocol.types import LSPErrorCodes
from pydantic import ValidationError
from pygls.exceptions import JsonRpcException

from tether.core import messages

log = logging.getLogger(__name__)

INVALID_PARAMS = -32602

P = ParamSpec("P")
R = TypeVar("R")


def rpc_error(exc: BaseException) -> JsonRpcException:
    """The error response for an exception a handler raised.

    The message is the catalogue's one line (what happened, why, what to do; no prefix:
    the editor says where it comes from); `data.message` has the parts and the actions
    an editor shows as buttons, `data.kind` the error's kind.
    """
    from tether.decisions import StoreError
    from tether.service import (
        AgentFailed,
        BadRequest,
        ProposalBusy,
        ProposalNotPending,
        ServiceError,
        StaleDocument,
        StaleWork,
        TrainingBusy,
        WorkCancelled,
    )

    if isinstance(exc, JsonRpcException):
        return exc
    if isinstance(exc, ValidationError):
        return _error(messages.for_kind("bad_request", describe(exc)), INVALID_PARAMS)
    if isinstance(exc, ServiceError):
        code = {  # most specific first: StaleWork is a WorkCancelled
            BadRequest: INVALID_PARAMS,
            StaleDocument: LSPErrorCodes.ContentModified.value,
            StaleWork: LSPErrorCodes.ContentModified.value,
            WorkCancelled: LSPErrorCodes.RequestCancelled.value,
            ProposalNotPending: LSPErrorCodes.RequestFailed.value,
            ProposalBusy: LSPErrorCodes.RequestFailed.value,
            AgentFailed: LSPErrorCodes.RequestFailed.value,
            TrainingBusy: LSPErrorCodes.RequestFailed.value,
        }
        value = next(
            (c for cls, c in code.items() if isinstance(exc, cls)),
            LSPErrorCodes.RequestFailed.value,
        )
        return _error(messages.for_exception(exc), value, kind=exc.kind)
    if isinstance(exc, StoreError):
        return _error(
            messages.for_kind("store", str(exc)), LSPErrorCodes.RequestFailed.value, kind="store"
        )
    return _error(messages.for_exception(exc), -32603, kind="internal")


def _error(msg: messages.UserMessage, code: int, *, kind: str | None = None) -> JsonRpcException:
    return JsonRpcException(
        message=msg.text(), code=code, data={"kind": kind or msg.code, "message": msg.data()}
    )


def describe(exc: ValidationError) -> str:
    """First validation error as `field: message` (what a user needs to fix the request)."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "params"
    msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
    return f"invalid {where}: {msg}"


def rpc(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn any exception of an async request handler into a clear error response."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except JsonRpcException:
            raise
        except Exception as exc:
            error = rpc_error(exc)
            if error.code == -32603:
                log.error("%s failed", fn.__name__, exc_info=exc)
            raise error from exc

    return wrapper


def params_dict(params: Any) -> dict[str, Any]:
    """Request params as a dict: custom requests arrive as plain JSON objects (or null)."""
    if params is None:
        return {}
    if isinstance(params, dict):
        return params
    raise JsonRpcException(message="params must be a JSON object", code=INVALID_PARAMS)


def single_argument(arguments: tuple[Any, ...]) -> dict[str, Any]:
    """Tether's commands take one object argument (or none)."""
    if not arguments:
        return {}
    if len(arguments) != 1 or not isinstance(arguments[0], dict):
        raise JsonRpcException(
            message='commands take a single object argument, e.g. {"proposalId": "…"}',
            code=INVALID_PARAMS,
        )
    return arguments[0]
