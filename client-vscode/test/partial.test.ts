import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PARTIAL_LINE, partialAnswerLine } from '../src/partial';

describe('partialAnswerLine', () => {
  it('shows the line being written and how many lines there are', () => {
    const answer = 'Annotate greet.\n```python\ndef greet(name: str) -> str:\n    return name\n';
    assert.equal(partialAnswerLine(answer), 'line 3: return name');
  });
  it('skips code fences and blank lines', () => {
    assert.equal(partialAnswerLine('Use is None.\n```python\n\n'), 'line 1: Use is None.');
    assert.equal(partialAnswerLine('x = 1\n```\n'), 'line 1: x = 1');
  });
  it('says it is writing before there is any text', () => {
    assert.equal(partialAnswerLine(''), 'writing…');
    assert.equal(partialAnswerLine('```python\n'), 'writing…');
  });
  it('cuts a long line to fit a notification', () => {
    const shown = partialAnswerLine('x'.repeat(500));
    assert.ok(shown.startsWith('line 1: xxx') && shown.endsWith('…'));
    assert.equal(shown.length, 'line 1: '.length + MAX_PARTIAL_LINE);
  });
  it('reads Windows line ends', () => {
    assert.equal(partialAnswerLine('a = 1\r\nb = 2\r\n'), 'line 2: b = 2');
  });
});
