import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HunkView } from '../src/protocol';
import { applyHunks, applyTextEdits, codePointToUtf16, offsetAt, positionAt, proposedDocument } from '../src/text';

function hunk(index: number, original: string, oldText: string, newText: string, from = 0): HunkView {
  // offsets in code points, as the Python server computes them
  const utf16 = original.indexOf(oldText, from);
  const origStart = Array.from(original.slice(0, utf16)).length;
  const origEnd = origStart + Array.from(oldText).length;
  return { index, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, origStart, origEnd, oldText, newText };
}

describe('offsetAt / positionAt', () => {
  const text = 'ab\r\ncd😀e\nlast';
  it('counts UTF-16 units and skips CRLF', () => {
    assert.equal(offsetAt(text, { line: 1, character: 0 }), 4);
    assert.equal(offsetAt(text, { line: 1, character: 4 }), 8); // after the emoji (2 units)
    assert.equal(text.slice(8, 9), 'e');
  });
  it('clamps past the end of a line and of the text', () => {
    assert.equal(offsetAt(text, { line: 0, character: 99 }), 2); // before \r\n
    assert.equal(offsetAt(text, { line: 9, character: 0 }), text.length);
  });
  it('round-trips', () => {
    for (const off of [0, 4, 8, 10, text.length]) {
      assert.equal(offsetAt(text, positionAt(text, off)), off);
    }
  });
});

describe('codePointToUtf16', () => {
  it('counts astral characters as one code point', () => {
    assert.equal(codePointToUtf16('a😀b', 2), 3);
    assert.equal(codePointToUtf16('a😀b', 10), 4);
  });
});

describe('applyHunks', () => {
  const original = 'x = 1  # 😀\ny = 2\nz = 3\n';
  const hunks = [hunk(0, original, 'x = 1', 'x = 10'), hunk(1, original, 'z = 3', 'z = 30')];
  it('applies all, some or none of the hunks', () => {
    assert.equal(applyHunks(original, hunks, new Set([0, 1])).text, 'x = 10  # 😀\ny = 2\nz = 30\n');
    assert.equal(applyHunks(original, hunks, new Set([1])).text, 'x = 1  # 😀\ny = 2\nz = 30\n');
    assert.equal(applyHunks(original, hunks, new Set()).text, original);
  });
  it('uses code-point offsets: a hunk after an emoji lands right', () => {
    const after = hunk(0, original, 'y = 2', 'y = 20');
    assert.ok(after.origStart < original.indexOf('y = 2')); // the emoji is 2 units, 1 point
    assert.equal(applyHunks(original, [after], new Set([0])).text, 'x = 1  # 😀\ny = 20\nz = 3\n');
  });
  it('reports where each hunk starts in the result', () => {
    const r = applyHunks(original, hunks, new Set([0, 1]));
    assert.equal(r.text.slice(r.hunkOffsets.get(1)!, r.hunkOffsets.get(1)! + 6), 'z = 30');
  });
  it('refuses overlapping hunks', () => {
    const bad = [hunk(0, original, 'x = 1', 'a'), { ...hunk(1, original, 'x = 1', 'b') }];
    assert.throws(() => applyHunks(original, bad, new Set([0, 1])), RangeError);
  });
});

describe('proposedDocument', () => {
  const doc = 'import os\n\ndef f():\n    return os.path.join("a", "b")\n';
  const original = '    return os.path.join("a", "b")';
  const proposal = {
    range: { start: { line: 3, character: 0 }, end: { line: 3, character: original.length } },
    original,
    proposed: '    return str(Path("a") / "b")',
    hunks: [hunk(0, original, 'os.path.join("a", "b")', 'str(Path("a") / "b")')],
  };
  it('replaces the range with the applied hunks and gives hunk lines', () => {
    const r = proposedDocument(doc, proposal, new Set([0]));
    assert.equal(r.text, 'import os\n\ndef f():\n    return str(Path("a") / "b")\n');
    assert.equal(r.hunkLines.get(0), 3);
    assert.equal(r.stale, false);
  });
  it('finds the original when lines were inserted above it', () => {
    const moved = '# header\n' + doc;
    const r = proposedDocument(moved, proposal, new Set([0]));
    assert.equal(r.stale, false);
    assert.equal(r.hunkLines.get(0), 4);
    assert.ok(r.text.includes('str(Path("a") / "b")'));
  });
  it('marks the proposal stale when its original text is gone', () => {
    const r = proposedDocument('something else\n', proposal, new Set([0]));
    assert.equal(r.stale, true);
  });
  it('treats a proposal without hunks as one change', () => {
    const r = proposedDocument(doc, { ...proposal, hunks: [] }, new Set([0]));
    assert.ok(r.text.includes('Path("a")'));
    assert.equal(proposedDocument(doc, { ...proposal, hunks: [] }, new Set()).text, doc);
  });
});

describe('applyTextEdits', () => {
  it('applies edits given against one text, in any order', () => {
    const text = 'one\ntwo\nthree\n';
    const out = applyTextEdits(text, [
      { range: { start: { line: 2, character: 0 }, end: { line: 2, character: 5 } }, newText: 'THREE' },
      { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } }, newText: '1' },
    ]);
    assert.equal(out, '1\ntwo\nTHREE\n');
  });
  it('refuses overlapping edits', () => {
    const r = { start: { line: 0, character: 0 }, end: { line: 0, character: 2 } };
    assert.throws(() => applyTextEdits('abc', [{ range: r, newText: 'x' }, { range: r, newText: 'y' }]), RangeError);
  });
});
