"""Service and validation errors as JSON-RPC error responses the editor can show as is."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from lsprotocol.types import LSPErrorCodes
from pydantic import ValidationError
from pygls.exceptions import JsonRpcException

log = logging.getLogger(__name__)

INVALID_PARAMS = -32602

P = ParamSpec("P")
R = TypeVar("R")


def rpc_error(exc: BaseException) -> JsonRpcException:
    """The error response for an exception a handler raised."""
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
        return JsonRpcException(message=f"Tether: {describe(exc)}", code=INVALID_PARAMS)
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
        return JsonRpcException(message=f"Tether: {exc}", code=value, data={"kind": exc.kind})
    if isinstance(exc, StoreError):
        return JsonRpcException(
            message=f"Tether: the decision store failed: {exc}",
            code=LSPErrorCodes.RequestFailed.value,
            data={"kind": "store"},
        )
    return JsonRpcException(
        message=f"Tether: internal error: {type(exc).__name__}: {exc}",
        code=-32603,
        data={"kind": "internal"},
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
    raise JsonRpcException(message="Tether: params must be a JSON object", code=INVALID_PARAMS)


def single_argument(arguments: tuple[Any, ...]) -> dict[str, Any]:
    """Tether's commands take one object argument (or none)."""
    if not arguments:
        return {}
    if len(arguments) != 1 or not isinstance(arguments[0], dict):
        raise JsonRpcException(
            message='Tether: commands take a single object argument, e.g. {"proposalId": "…"}',
            code=INVALID_PARAMS,
        )
    return arguments[0]
