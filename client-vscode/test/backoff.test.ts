import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../src/backoff';

const opts = { initialMs: 100, factor: 2, maxMs: 500, stableMs: 10_000, maxAttempts: 5 };

describe('Backoff', () => {
  it('doubles up to the cap for quick crashes', () => {
    const b = new Backoff(opts);
    assert.deepEqual([b.next(10), b.next(10), b.next(10), b.next(10)], [100, 200, 400, 500]);
  });
  it('gives up after maxAttempts quick crashes', () => {
    const b = new Backoff(opts);
    for (let i = 0; i < 5; i++) assert.notEqual(b.next(1), undefined);
    assert.equal(b.next(1), undefined);
  });
  it('forgives a server that ran long enough', () => {
    const b = new Backoff(opts);
    b.next(1);
    b.next(1);
    assert.equal(b.next(60_000), 100);
  });
  it('reset starts over', () => {
    const b = new Backoff(opts);
    b.next(1);
    b.reset();
    assert.equal(b.next(1), 100);
  });
});
