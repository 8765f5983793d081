"""The message contract: generated files are current, the wire is camelCase both ways."""

from __future__ import annotations

import shutil

import pytest

from tether.core.types import Hunk, Position, Proposal, Range
from tether.protocol import codegen
from tether.protocol.catalogue import MESSAGES
from tether.protocol.commands import AcceptArgs, ProposeArgs
from tether.protocol.requests import HistoryParams
from tether.protocol.views import ProposalDetail

NODE_READY = (
    shutil.which("node") is not None
    and (codegen.VSCODE / "node_modules" / "json-schema-to-typescript").is_dir()
)


def test_schema_and_lua_are_current() -> None:
    """Fails when a model changed and `python -m tether.protocol.codegen` was not run."""
    stale = codegen.stale(with_typescript=False)
    assert stale == [], f"regenerate with `{codegen.COMMAND}`: {stale}"


@pytest.mark.skipif(not NODE_READY, reason="needs `make vscode-setup` (json-schema-to-typescript)")
def test_typescript_is_exactly_what_the_generator_makes() -> None:
    assert codegen.TS_PATH.read_text("utf-8") == codegen.expected()[codegen.TS_PATH]


def test_a_changed_schema_makes_the_typescript_stale(tmp_path, monkeypatch) -> None:
    """The recorded hash ties contract.ts to the schema even where Node is missing."""
    copy = tmp_path / "contract.ts"
    text = codegen.TS_PATH.read_text("utf-8")
    copy.write_text(text.replace("schema sha256: ", "schema sha256: 0", 1)[: len(text)])
    monkeypatch.setattr(codegen, "TS_PATH", copy)
    assert copy in codegen.stale(with_typescript=False)


def test_every_message_is_in_the_schema_once() -> None:
    body = codegen.schema()
    assert list(body["properties"]) == [m.method for m in MESSAGES]
    assert len({m.method for m in MESSAGES}) == len(MESSAGES)
    for msg in MESSAGES:
        entry = body["properties"][msg.method]["properties"]
        assert entry["kind"] == {"const": msg.kind}
        assert ("result" in entry) == (msg.result is not None)


def test_no_snake_case_key_on_the_wire() -> None:
    """Every property name the schema gives (what clients read and send) is camelCase,
    except the free-form maps (metrics, data…) whose keys are values."""
    body = codegen.schema()
    for name, node in body["$defs"].items():
        for key in node.get("properties", {}):
            assert "_" not in key, f"{name}.{key} is not camelCase"


def test_args_take_camel_case_and_refuse_unknown_keys() -> None:
    args = AcceptArgs.model_validate({"proposalId": "p1", "hunks": [0]})
    assert (args.proposal_id, args.hunks) == ("p1", [0])
    with pytest.raises(ValueError, match="proposalid"):
        AcceptArgs.model_validate({"proposalid": "p1"})
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
    assert ProposeArgs.model_validate({"uri": "file:///a.py", "range": rng, "task": "t"}).task


def test_history_filter_is_camel_case_and_takes_one_outcome() -> None:
    p = HistoryParams.model_validate({"filter": {"classKey": "k", "outcome": "accepted"}})
    assert p.filter is not None
    assert (p.filter.class_key, [o.value for o in p.filter.outcome or []]) == ("k", ["accepted"])


def test_a_proposal_goes_out_in_camel_case() -> None:
    rng = Range(start=Position(line=0, character=0), end=Position(line=1, character=0))
    hunk = Hunk(index=0, range=rng, orig_start=0, orig_end=2, old_text="a\n", new_text="b\n")
    proposal = Proposal(
        uri="file:///w/a.py",
        path="a.py",
        range=rng,
        task="t",
        class_key="k",
        original="a\n",
        proposed="b\n",
        hunks=[hunk],
        adapter_version="v1",
    )
    body = ProposalDetail.model_validate({**proposal.model_dump(), "diff": "-a\n+b\n"}).dump()
    assert body["classKey"] == "k" and body["adapterVersion"] == "v1"
    assert body["hunks"][0]["origStart"] == 0 and body["hunks"][0]["newText"] == "b\n"
    assert "class_key" not in body and body["diff"] == "-a\n+b\n"
