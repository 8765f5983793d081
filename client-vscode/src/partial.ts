/**
 * The model's answer while it is written, as one line for a progress notification.
 *
 * The server's `$/progress` reports on a suggestion request carry the whole answer so far
 * (see the server's `PartialAnswers`); a notification has room for one line, so it shows
 * the line being written and how far the answer has got. No `vscode` import.
 */

/** Longest line shown; a notification cuts the rest anyway. */
export const MAX_PARTIAL_LINE = 80;

const FENCE = /^\s*(`{3,}|~{3,})/;

/** "line 7: return total": the last line with text (code fences skipped), cut to fit. */
export function partialAnswerLine(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let count = 0;
  let last = '';
  for (const line of lines) {
    if (line.trim() === '') {
      continue;
    }
    if (FENCE.test(line)) {
      continue;
    }
    count += 1;
    last = line.trim();
  }
  if (!last) {
    return 'writing…';
  }
  const shown = last.length > MAX_PARTIAL_LINE ? `${last.slice(0, MAX_PARTIAL_LINE - 1)}…` : last;
  return `line ${count}: ${shown}`;
}
