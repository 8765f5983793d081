"""Settings changed while the service runs reach the parts that read them (issue 19)."""

from __future__ import annotations

from pathlib import Path

from tests.profile.conftest import play

from tether.config import ClassSettings, Settings
from tether.service import TetherService

KEY = "improve:E711:python:src:small"  # made from the default parts


async def test_a_change_of_class_parts_rebuilds_the_profile_from_the_log(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    service = await TetherService.open(tmp_path / "ws", settings)
    try:
        await play(service.store, [(KEY, "accept"), (KEY, "accept"), (KEY, "reject")])
        profile = await service.profile_store()
        assert profile.profile.stats(KEY).kind == "E711"  # the default parts have a kind

        parts = ["task", "language"]
        service.update_settings(settings.model_copy(update={"classes": ClassSettings(parts=parts)}))
        await service.idle()

        rebuilt = (await service.profile_store()).profile
        assert list(rebuilt.shape.parts) == parts
        # replayed from the log: the same verdicts, the old key now read under the new parts
        assert rebuilt.last_seq == (await service.store.head())[0]
        stats = rebuilt.stats(KEY)
        assert (stats.accepts, stats.rejects) == (2, 1)
        assert stats.kind is None  # a 5-part key has no kind under 2 parts
    finally:
        await service.close()
