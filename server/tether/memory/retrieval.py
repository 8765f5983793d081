"""Finding the past decisions most like the code at hand.

bm25s rather than an embedding model: it is small (numpy and scipy, already here), needs
no model download (Tether must work offline on first run), indexes a few thousand
exemplars in milliseconds on a CPU, and lexical overlap is what matters most for code
style (`== None`, `os.path`, `%` formatting are literal tokens). The index is rebuilt only
when the set of exemplars changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from tether.memory.models import Exemplar

#: Words plus the operators that carry style (`==`, `!=`, `%`), which \w alone would drop.
TOKEN_PATTERN = r"(?u)\b\w\w+\b|==|!=|%"
SAME_CLASS_BONUS = 1.5


def related(a: str | None, b: str | None) -> bool:
    """Whether two class keys are the same class, or one is a family of the other.

    A family leaves parts out, and not only at the end: a request's key has no kind or
    size yet (`improve:python:code`) while its proposals' keys do
    (`improve:E711:python:code:1-3`). So the shorter key's parts must appear, in order, in
    the longer one.
    """
    if not a or not b:
        return False
    short, long = sorted((a.split(":"), b.split(":")), key=len)
    rest = iter(long)
    return all(part in rest for part in short)


def document_text(e: Exemplar) -> str:
    return "\n".join(x for x in (e.task, e.path, e.original, e.feedback or "") if x)


def _tokenize(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        list(texts),
        token_pattern=TOKEN_PATTERN,
        stopwords=None,
        show_progress=False,
        return_ids=False,
    )


class ExemplarIndex:
    """A BM25 index over exemplars; `search` ranks them for a query."""

    def __init__(self) -> None:
        self._signature: tuple[tuple[str, str], ...] | None = None
        self._exemplars: list[Exemplar] = []
        self._retriever: object | None = None

    def update(self, exemplars: Sequence[Exemplar], signature: tuple[tuple[str, str], ...]) -> None:
        if signature == self._signature:
            return
        import bm25s

        self._exemplars = list(exemplars)
        self._signature = signature
        self._retriever = None
        if not self._exemplars:
            return
        tokens = _tokenize([document_text(e) for e in self._exemplars])
        # index() wants ids + vocab; build them from our own tokens to keep one tokenizer
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in tokens]
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
        self._retriever = retriever

    def search(self, query: str, k: int, class_key: str | None = None) -> list[Exemplar]:
        """The best matches, at most k that the user kept and k that they rejected."""
        if self._retriever is None or k <= 0:
            return []
        q = _tokenize([query])[0]
        if not q:
            return []
        scores = self._retriever.get_scores(q)  # type: ignore[attr-defined]
        ranked: list[tuple[float, int]] = []
        for i, (e, s) in enumerate(zip(self._exemplars, scores, strict=True)):
            score = float(s)
            if score <= 0:
                continue
            if related(e.class_key, class_key):
                score *= SAME_CLASS_BONUS
            ranked.append((score, i))
        ranked.sort(key=lambda t: (-t[0], t[1]))
        # up to k of each kind: demonstrations (what the user kept) and rejections, so a
        # run of similar rejections cannot push every demonstration out of the prompt
        good = [(s, i) for s, i in ranked if self._exemplars[i].good][:k]
        other = [(s, i) for s, i in ranked if not self._exemplars[i].good][:k]
        picked = sorted(good + other, key=lambda t: (-t[0], t[1]))
        return [self._exemplars[i].model_copy(update={"score": s}) for s, i in picked]
