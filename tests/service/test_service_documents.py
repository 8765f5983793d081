"""A front end with its own document index (pygls' workspace) hands the service its text
and the edits it made; the service keeps that text, not a copy, and follows the edits."""

from __future__ import annotations

from tests.service.test_service import _accepted, _uri, setup  # noqa: F401 (fixture)

from tether.core.text import replace_range
from tether.core.tracking import edit_of
from tether.core.types import Range


async def test_the_front_ends_text_is_kept_and_its_edits_followed(setup) -> None:  # noqa: F811
    service, provider, events = setup
    pid = await _accepted(service, provider)
    uri = _uri(service)
    doc = service.document(uri)
    rng = Range.of(3, 4, 3, 18)
    text = replace_range(doc.text, rng, "return message.upper()")  # the front end's string
    edit = edit_of(doc.text, rng, "return message.upper()")
    assert edit is not None
    service.document_changed(uri, (doc.version or 0) + 1, text, [edit])
    assert service.document(uri).text is text  # the same object: no second copy
    await service.save_document(uri)  # ends the correction window now
    corrected = [r for r in events.records if r.outcome.value == "corrected"]
    assert [r.proposal_id for r in corrected] == [pid]
    assert corrected[0].after is not None and corrected[0].after.endswith("message.upper()")
