"""Result files: one JSON per benchmark, and a Markdown summary regenerated from all of them.

Every number in the project README should come from `bench/results/README.md`, which is
rebuilt from the JSON files each run, so a table can never drift from what was measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from bench.machine import describe
from bench.tables import markdown_table

RESULTS_DIR = Path(__file__).resolve().parent / "results"

Status = Literal["ok", "skipped", "error"]
Comparison = Literal[">=", "<=", "<", ">"]


class Target(BaseModel):
    """A goal from the issue, next to what this run measured."""

    name: str
    value: float | None
    target: float
    op: Comparison
    unit: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return {
            ">=": self.value >= self.target,
            "<=": self.value <= self.target,
            ">": self.value > self.target,
            "<": self.value < self.target,
        }[self.op]


class Table(BaseModel):
    title: str
    headers: list[str]
    rows: list[list[Any]]


class BenchResult(BaseModel):
    name: str
    title: str
    mode: Literal["quick", "full"]
    status: Status = "ok"
    reason: str | None = None  # why skipped or failed
    command: str = ""
    machine: dict[str, Any]
    duration_s: float = 0.0
    metrics: dict[str, Any] = Field(default_factory=dict)
    targets: list[Target] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def target_rows(self) -> list[list[Any]]:
        rows = []
        for t in self.targets:
            met = {True: "yes", False: "NO", None: "n/a"}[t.met]
            rows.append(
                [t.name, _fmt(t.value, t.unit, t.target), f"{t.op} {_fmt(t.target, t.unit)}", met]
            )
        return rows

    def render(self) -> str:
        """The Markdown block for this result (also what the runner prints)."""
        lines = [f"## {self.title} (`{self.name}`, {self.mode})", ""]
        lines.append(
            f"Measured {self.machine.get('date')} on {describe(self.machine)}"
            f"{' at commit ' + self.machine['commit'] if self.machine.get('commit') else ''}; "
            f"took {self.duration_s:.1f} s. Command: `{self.command}`."
        )
        lines.append("")
        if self.status != "ok":
            lines += [f"**{self.status}**: {self.reason}", ""]
        if self.targets:
            lines.append(markdown_table(["target", "measured", "goal", "met"], self.target_rows()))
            lines.append("")
        for table in self.tables:
            lines += [f"**{table.title}**", "", markdown_table(table.headers, table.rows), ""]
        for note in self.notes:
            lines.append(f"- {note}")
        if self.notes:
            lines.append("")
        return "\n".join(lines)


def _fmt(value: float | None, unit: str, against: float | None = None) -> str:
    """Three significant digits, or more where three would round a miss onto its goal."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and not value.is_integer():
        digits = 3
        text = f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
        while abs(value) < 100 and against is not None and value != against and digits < 6:
            if float(text.replace(",", "")) != against:
                break
            digits += 1
            text = f"{value:,.{digits}g}"
    else:
        text = f"{int(value):,}"
    return f"{text} {unit}".strip()


def write_result(result: BenchResult, directory: Path = RESULTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result.name}.json"
    path.write_text(json.dumps(result.model_dump(mode="json"), indent=2, sort_keys=False) + "\n")
    return path


def load_results(directory: Path = RESULTS_DIR) -> list[BenchResult]:
    out = []
    for path in sorted(directory.glob("*.json")):
        try:
            out.append(BenchResult.model_validate_json(path.read_text()))
        except ValueError as exc:
            raise ValueError(f"{path}: not a benchmark result: {exc}") from exc
    return out


#: Order of sections in the README, by benchmark name; others follow alphabetically.
ORDER = ["store", "learning", "latency", "training"]


def write_readme(directory: Path = RESULTS_DIR) -> Path:
    """Regenerate `README.md` from every JSON in the directory."""
    results = load_results(directory)

    def order(r: BenchResult) -> tuple[int, str, int]:
        base = r.name.removesuffix("-quick")
        rank = ORDER.index(base) if base in ORDER else len(ORDER)
        return rank, base, r.mode == "quick"

    results.sort(key=order)
    summary_rows = []
    for r in results:
        for t in r.targets:
            summary_rows.append([r.name, *t_row(r, t)])
    parts = [
        "# Benchmark results",
        "",
        "Generated by `python -m bench.run` from the JSON files in this folder; do not edit by "
        "hand. Each section names the machine and date it was measured on.",
        "",
        "## Targets",
        "",
        markdown_table(
            ["benchmark", "target", "measured", "goal", "met", "mode", "date"], summary_rows
        )
        if summary_rows
        else "(no results yet)",
        "",
    ]
    parts += [r.render() for r in results]
    path = directory / "README.md"
    path.write_text("\n".join(parts).rstrip() + "\n")
    return path


def t_row(result: BenchResult, target: Target) -> list[Any]:
    met = {True: "yes", False: "NO", None: "n/a"}[target.met]
    return [
        target.name,
        _fmt(target.value, target.unit, target.target),
        f"{target.op} {_fmt(target.target, target.unit)}",
        met,
        result.mode,
        str(result.machine.get("date", ""))[:10],
    ]
