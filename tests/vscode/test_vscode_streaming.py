"""The model's answer streams into VS Code (issue 18): while the server generates, its
`$/progress` reports (the answer so far) show in the request's progress notification as the
line being written. Real code-server with the built .vsix and a recorded answer that the
server plays back line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import build_vsix, setup
from .test_vscode_flows import FILE, FSTRING_1, FSTRING_2, HEAD, IS_NONE
from .workbench import answer, workbench

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def vsix() -> Path:
    setup(e2e=True)
    return build_vsix()


def test_the_answer_grows_in_the_progress_notification(vsix: Path, tmp_path: Path) -> None:
    code = HEAD + IS_NONE + FSTRING_1 + FSTRING_2
    with workbench(tmp_path, vsix, [answer("improve", FILE, "f-strings.", code)]) as wb:
        d = wb.driver
        d.step("recordNotifications")
        d.step("ask", file=FILE, first=15, last=18, words="use f-strings")
        d.step("diffShown", expect='return f"{self.name} x{self.quantity} at', shot="diff.png")
        texts = d.step("notificationTexts")["texts"]
        # the request's own notification, titled with the user's words
        mine = [t for t in texts if "use f-strings" in t]
        assert mine, texts
        # the first line of the answer, then the last line written (code fences skipped)
        assert any("line 1: f-strings." in t for t in mine), mine
        last = 'line 5: return f"{self.name} x{self.quantity} at {self.location}"'
        assert any(last in t for t in mine), mine
