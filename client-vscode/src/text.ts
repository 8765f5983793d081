/**
 * Text arithmetic for proposals: LSP positions (UTF-16), hunk offsets (code points), and
 * the proposed document a diff shows.
 *
 * Two unit systems meet here. LSP positions count UTF-16 code units, which is what
 * JavaScript strings index by; the server's hunk offsets count code points inside
 * `Proposal.original` (Python string indices). Mixing them up shifts every hunk after an
 * emoji, so the conversion lives in one tested place. No `vscode` import.
 */

import type { HunkView, LspPosition, LspRange, ProposalView } from './protocol';

/** UTF-16 offset of an LSP position in `text`; positions past a line's end clamp to it. */
export function offsetAt(text: string, pos: LspPosition): number {
  let offset = 0;
  for (let line = 0; line < pos.line; line++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) {
      return text.length;
    }
    offset = nl + 1;
  }
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) {
    lineEnd = text.length;
  } else if (lineEnd > offset && text[lineEnd - 1] === '\r') {
    lineEnd -= 1;
  }
  return Math.min(offset + Math.max(0, pos.character), lineEnd);
}

/** LSP position (UTF-16) of a UTF-16 offset. */
export function positionAt(text: string, offset: number): LspPosition {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, character: clamped - lineStart };
}

/** UTF-16 offset of the `cp`-th code point of `text` (clamped to its length). */
export function codePointToUtf16(text: string, cp: number): number {
  let units = 0;
  let points = 0;
  while (points < cp && units < text.length) {
    const code = text.codePointAt(units) ?? 0;
    units += code > 0xffff ? 2 : 1;
    points += 1;
  }
  return units;
}

/** Line count before `offset` (the zero-based line the offset is on). */
export function lineOf(text: string, offset: number): number {
  let n = 0;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      n += 1;
    }
  }
  return n;
}

export interface RebuiltRange {
  /** The replacement text for the proposal's range with the chosen hunks applied. */
  text: string;
  /** For each hunk (by index): UTF-16 offset where it starts inside `text`. */
  hunkOffsets: Map<number, number>;
}

/**
 * The proposal's range text with only `applied` hunks applied (the rest keep the original).
 * Hunks outside `original` or overlapping an earlier one are errors in the proposal.
 */
export function applyHunks(original: string, hunks: HunkView[], applied: ReadonlySet<number>): RebuiltRange {
  const sorted = [...hunks].sort((a, b) => a.origStart - b.origStart);
  const cpLength = Array.from(original).length;
  let out = '';
  let cursorCp = 0;
  let cursorUnits = 0;
  const hunkOffsets = new Map<number, number>();
  for (const hunk of sorted) {
    if (hunk.origStart < cursorCp || hunk.origEnd > cpLength) {
      throw new RangeError(`hunk ${hunk.index} overlaps another or lies outside the original text`);
    }
    const startUnits = cursorUnits + codePointToUtf16(original.slice(cursorUnits), hunk.origStart - cursorCp);
    const endUnits = startUnits + codePointToUtf16(original.slice(startUnits), hunk.origEnd - hunk.origStart);
    out += original.slice(cursorUnits, startUnits);
    hunkOffsets.set(hunk.index, out.length);
    out += applied.has(hunk.index) ? hunk.newText : original.slice(startUnits, endUnits);
    cursorCp = hunk.origEnd;
    cursorUnits = endUnits;
  }
  out += original.slice(cursorUnits);
  return { text: out, hunkOffsets };
}

export interface ProposedDocument {
  /** The whole document with the applied hunks. */
  text: string;
  /** Zero-based line in `text` where each hunk starts. */
  hunkLines: Map<number, number>;
  /** The document no longer holds the proposal's original text at its range. */
  stale: boolean;
}

/**
 * The document as it would be after accepting `applied` hunks. When the text under the
 * range changed since the proposal was made, the original is looked up nearby (lines
 * inserted above it move it) and failing that the result is marked stale.
 */
export function proposedDocument(
  current: string,
  proposal: Pick<ProposalView, 'range' | 'original' | 'hunks' | 'proposed'>,
  applied: ReadonlySet<number>,
): ProposedDocument {
  let start = offsetAt(current, proposal.range.start);
  let end = offsetAt(current, proposal.range.end);
  let stale = current.slice(start, end) !== proposal.original;
  if (stale && proposal.original) {
    const found = current.indexOf(proposal.original);
    if (found >= 0 && current.indexOf(proposal.original, found + 1) < 0) {
      start = found;
      end = found + proposal.original.length;
      stale = false;
    }
  }
  const rebuilt =
    proposal.hunks.length > 0
      ? applyHunks(proposal.original, proposal.hunks, applied)
      : { text: applied.has(0) ? proposal.proposed : proposal.original, hunkOffsets: new Map([[0, 0]]) };
  const text = current.slice(0, start) + rebuilt.text + current.slice(end);
  const hunkLines = new Map<number, number>();
  for (const [index, off] of rebuilt.hunkOffsets) {
    hunkLines.set(index, lineOf(text, start + off));
  }
  return { text, hunkLines, stale };
}

export interface TextEdit {
  range: LspRange;
  newText: string;
}

/** Apply LSP text edits (all against the same original text) to `text`. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const withOffsets = edits
    .map((e, i) => ({ start: offsetAt(text, e.range.start), end: offsetAt(text, e.range.end), newText: e.newText, i }))
    .sort((a, b) => a.start - b.start || a.end - b.end || a.i - b.i);
  let out = '';
  let cursor = 0;
  for (const e of withOffsets) {
    if (e.start < cursor) {
      throw new RangeError('overlapping text edits');
    }
    out += text.slice(cursor, e.start) + e.newText;
    cursor = e.end;
  }
  return out + text.slice(cursor);
}

const BLOCK_START = /^(\s*)(async\s+def|def|class)\s/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Last non-blank line of the block whose header is line `header` (by indentation). */
function blockEnd(lines: readonly string[], header: number): number {
  const indent = indentOf(lines[header]);
  let end = header;
  for (let j = header + 1; j < lines.length; j++) {
    if (!lines[j].trim()) continue;
    if (indentOf(lines[j]) <= indent) break;
    end = j;
  }
  return end;
}

/**
 * The lines of the innermost `def`/`class` (Python, by indentation) that holds lines
 * `first..last` and is larger than them: its header up to its last non-blank line.
 * Undefined when there is none.
 */
export function enclosingBlock(lines: readonly string[], first: number, last: number): { start: number; end: number } | undefined {
  for (let i = Math.min(first, lines.length - 1); i >= 0; i--) {
    if (!BLOCK_START.test(lines[i])) continue;
    const end = blockEnd(lines, i);
    if (end >= last && !(i === first && end === last)) {
      return { start: i, end };
    }
  }
  return undefined;
}
