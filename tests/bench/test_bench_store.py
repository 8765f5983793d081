"""The store benchmark measures what it says: real chained rows, a valid chain, three writers.

No timing is asserted (speed goals live in bench/results); these check the measurement.
"""

from __future__ import annotations

from pathlib import Path

from bench import store_bench
from tether.decisions import verify_file


def test_store_benchmark_appends_a_valid_chain_and_times_every_writer() -> None:
    m = store_bench.run(appends=30, block=7, verify_rows=300, verify_repeats=1)
    assert m["appended_chain_ok"] is True
    assert m["verify_ok"] is True and m["verify_rows"] == 300
    for key in ("tether_appends_per_s", "plain_inserts_per_s", "plain_async_inserts_per_s"):
        assert m[key] > 0
    assert m["ratio"] == m["tether_appends_per_s"] / m["plain_inserts_per_s"]


def test_the_chain_built_for_verify_timing_is_a_valid_tether_chain(tmp_path: Path) -> None:
    db = tmp_path / "chain.db"
    store_bench.build_chain(db, 50)
    result = verify_file(db)
    assert result.ok and result.rows == 50, result.summary()


def test_a_missed_target_never_prints_as_its_goal() -> None:
    from bench.results import _fmt

    assert _fmt(0.3997, "", 0.4) == "0.3997"  # three digits would read "0.4 >= 0.4: NO"
    assert _fmt(0.433, "", 0.7) == "0.433"
    assert _fmt(0.4, "", 0.4) == "0.4"
    assert _fmt(608.2, "ms", 700) == "608 ms"
