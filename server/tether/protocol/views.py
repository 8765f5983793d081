"""What the server shows the editors: the core's models as camelCase views.

Each view is the core model itself (same fields, same validation) with camelCase names on
the wire, so a field added to a core model reaches the contract — and the stale-file test
says the clients must be regenerated. `camel_view` makes them, nested models included.
"""

from __future__ import annotations

import functools
import operator
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model
from pydantic.alias_generators import to_camel

from tether.core.types import Candidate, Hunk, Proposal, Range
from tether.decisions.models import AdapterRow, DecisionRecord, HistoryFilter, VerifyResult
from tether.profile.view import ClassView, ProfileView
from tether.protocol.wire import WIRE_CONFIG, Dumps, Wire
from tether.training.models import TrainingResult, TrainingStatus

_VIEWS: dict[type[BaseModel], type[BaseModel]] = {}


def camel_view(model: type[BaseModel], name: str | None = None) -> type[Any]:
    """`model` with camelCase wire names; its nested models become views too."""
    if model in _VIEWS:
        return _VIEWS[model]
    swapped = {
        field: (_swap(info.annotation), info)
        for field, info in model.model_fields.items()
        if _swap(info.annotation) is not info.annotation
    }
    names = [*model.model_fields, *model.model_computed_fields]
    if not swapped and all(to_camel(n) == n for n in names):
        _VIEWS[model] = model  # already the wire shape (Position, Range, Candidate)
        return model
    base = type(name or f"{model.__name__}View", (Dumps, model), {"model_config": WIRE_CONFIG})
    base.__doc__ = model.__doc__
    view = (
        create_model(base.__name__, __base__=base, __doc__=model.__doc__, **swapped)  # type: ignore[call-overload]
        if swapped
        else base
    )
    view.__module__ = __name__
    _VIEWS[model] = view
    return view


def _swap(annotation: Any) -> Any:
    """The annotation with every project model in it replaced by its view."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.__module__.startswith("tether.") and not issubclass(annotation, Wire):
            return camel_view(annotation)
        return annotation
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if not args:
        return annotation
    new = tuple(_swap(a) for a in args)
    if all(n is a for n, a in zip(new, args, strict=True)):
        return annotation
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, new)
    if origin is typing.Annotated:
        return typing.Annotated[(new[0], *annotation.__metadata__)]
    return origin[new]


RangeView = camel_view(Range)  # Range itself: positions have no snake_case names
CandidateView = camel_view(Candidate)
HunkView = camel_view(Hunk)
ProposalView = camel_view(Proposal)
DecisionView = camel_view(DecisionRecord, "DecisionView")
AdapterView = camel_view(AdapterRow, "AdapterView")
ProfileClassView = camel_view(ClassView, "ProfileClassView")
ProfileSummaryView = camel_view(ProfileView, "ProfileSummaryView")
TrainingResultView = camel_view(TrainingResult)
TrainingStatusView = camel_view(TrainingStatus)
VerifyView = camel_view(VerifyResult)
HistoryFilterView = camel_view(HistoryFilter)


class TrainingUnavailable(Wire):
    """The training status when the training extra is not installed."""

    state: Literal["unavailable"] = "unavailable"
    message: str = "training is not installed"


class ProposalDetail(ProposalView):  # type: ignore[misc, valid-type]
    """A proposal with its diff, its decisions and whether the editor shows it now."""

    diff: str
    decisions: list[DecisionView] = Field(default_factory=list)  # type: ignore[valid-type]
    live: bool = False


class HistoryPageView(Wire):
    items: list[DecisionView]  # type: ignore[valid-type]
    total: int
    offset: int
    limit: int
