"""The service's view of the documents open in the editor.

The service needs each open document's exact text and version to check ranges, spot stale
work and follow the user's corrections; the front end keeps it current with
open/change/close. A document that is not open is read from disk when asked for.

Under the language server the text is pygls' own: `lsp/` hands over the string its
workspace holds after each change, with the edits that change made (`changed`), so the
service keeps a reference to the editor's text, not a second copy it applies changes to.
Front ends without a document index of their own (the HTTP API, tests) send the changes
and the mirror applies them (`change`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from tether.core.text import RangeError
from tether.core.tracking import Edit, apply_change
from tether.service.context import Context
from tether.service.errors import BadRequest, DocumentTooLarge, UnknownDocument
from tether.service.values import TextChange


@dataclass
class Document:
    uri: str
    path: str
    language: str
    version: int | None
    text: str


def uri_to_path(uri: str) -> Path | None:
    """The local file behind a `file:` URI, or None for other schemes (untitled:, …)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    return Path(path)


def relative_path(workspace: Path, uri: str) -> str:
    """Workspace-relative POSIX path of a document (absolute when it lies outside)."""
    local = uri_to_path(uri)
    if local is None:
        return uri
    try:
        return local.resolve().relative_to(workspace).as_posix()
    except ValueError:
        return local.as_posix()


class DocumentMirror:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._docs: dict[str, Document] = {}

    def __contains__(self, uri: str) -> bool:
        return uri in self._docs

    def open(self, uri: str, language: str, version: int | None, text: str) -> None:
        self._docs[uri] = Document(
            uri=uri,
            path=relative_path(self.ctx.workspace, uri),
            language=language,
            version=version,
            text=text,
        )

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def document(self, uri: str) -> Document:
        doc = self._docs.get(uri)
        if doc is None:
            raise UnknownDocument(f"{uri} is not open in the editor")
        return doc

    def version_of(self, uri: str) -> int | None:
        doc = self._docs.get(uri)
        return doc.version if doc is not None else None

    def change(
        self, uri: str, version: int | None, changes: Sequence[TextChange]
    ) -> tuple[Document, list[Edit]] | None:
        """Apply edits in order; the document and the edits as the trackers see them
        (None when the document is not open)."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        edits: list[Edit] = []
        text = doc.text
        for change in changes:
            try:
                edit, text = apply_change(text, change.range, change.text)
            except RangeError as exc:
                raise BadRequest(f"change to {uri} is outside the document: {exc}") from None
            if edit is not None:
                edits.append(edit)
        doc.text, doc.version = text, version
        return doc, edits

    def changed(self, uri: str, version: int | None, text: str) -> Document | None:
        """Adopt the front end's text after a change it applied (None when the document is
        not open)."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        doc.text, doc.version = text, version
        return doc

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def open_or_read(self, uri: str) -> Document:
        """The open document, else the file on disk (not kept)."""
        doc = self._docs.get(uri)
        return doc if doc is not None else self._read_from_disk(uri)

    def _read_from_disk(self, uri: str) -> Document:
        limit = self.ctx.settings.max_file_bytes
        local = uri_to_path(uri)
        if local is None or not local.is_file():
            raise UnknownDocument(f"{uri} is not open in the editor and is not a local file")
        if local.stat().st_size > limit:
            raise DocumentTooLarge(
                f"{local} is {local.stat().st_size:,} bytes, over the max_file_bytes limit "
                f"({limit:,}); Tether does not propose on it"
            )
        try:
            text = local.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadRequest(f"cannot read {local}: {exc}") from None
        language = {".py": "python"}.get(local.suffix, local.suffix.lstrip(".") or "plaintext")
        return Document(uri, relative_path(self.ctx.workspace, uri), language, None, text)

    def size_problem(self, doc: Document) -> str | None:
        """Why Tether will not propose on a document this big, or None."""
        limit = self.ctx.settings.max_file_bytes
        size = len(doc.text.encode("utf-8"))
        if size <= limit:
            return None
        return (
            f"{doc.path} is {size:,} bytes, over the max_file_bytes limit "
            f"({limit:,}); Tether does not propose on it"
        )
