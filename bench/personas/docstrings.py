"""A documentation lead: Google-style docstrings are welcome, any other edit is not.

Sphinx (`:param x:`) and NumPy docstrings get corrected into Google style; a one-line
docstring on a function with parameters is rejected (it does not document them).
"""

from __future__ import annotations

import re

from bench.analysis import compare, docstring_style, mood
from bench.personas import PersonaProposal, Verdict
from bench.rewrites import replace_docstrings

NAME = "docstrings"
_noise = 0.01  # share of proposals rejected for no reason the edit shows ("not now")

_FIELD = re.compile(r"^:(param|returns?|raises?)\s*(\w*)\s*:\s*(.*)$")


def to_google(doc: str) -> str:
    """Rewrite a Sphinx-style docstring's fields as Google-style sections."""
    summary: list[str] = []
    args: list[str] = []
    returns: list[str] = []
    raises: list[str] = []
    for line in doc.splitlines():
        m = _FIELD.match(line.strip())
        if not m:
            if not (args or returns or raises):
                summary.append(line)
            continue
        kind, name, text = m.groups()
        if kind == "param":
            args.append(f"    {name}: {text}")
        elif kind.startswith("return"):
            returns.append(f"    {text}")
        else:
            raises.append(f"    {name}: {text}")
    while summary and not summary[-1].strip():
        summary.pop()
    out = list(summary)
    for title, items in (("Args", args), ("Returns", returns), ("Raises", raises)):
        if items:
            out += ["", f"{title}:", *items]
    return "\n".join(out)


def configure(noise: float = 0.01) -> None:
    """`noise`: the share of proposals rejected for no visible reason (a bad day)."""
    global _noise
    _noise = noise


def judge(proposal: PersonaProposal) -> Verdict:
    change = compare(proposal.original, proposal.proposed)
    if not change.parses:
        return Verdict.reject("this does not parse")
    assert change.after is not None
    if not change.docstring_only:
        return Verdict.reject("docstrings only, please: leave the code alone")
    docs = change.new_or_changed_docstrings()
    if not docs:
        return Verdict.reject("this removes documentation")
    fixes: dict[str, str] = {}
    for name, doc in docs.items():
        style = docstring_style(doc)
        if style in ("sphinx", "numpy"):
            fixes[name] = to_google(doc)
        elif style == "plain" and (
            change.after.params.get(name) or change.after.returns_value.get(name)
        ):
            return Verdict.reject("Google style, please: document Args and Returns")
    if fixes:
        fixed = replace_docstrings(proposal.proposed, fixes)
        if fixed != proposal.proposed:
            return Verdict.correct(fixed, "Google style, not Sphinx fields")
    if mood(proposal.proposed, NAME) < _noise:
        return Verdict.reject("not now")
    return Verdict.accept()
