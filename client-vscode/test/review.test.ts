import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReviewState } from '../src/review';

describe('ReviewState', () => {
  it('settles to accept-all when every hunk is accepted', () => {
    const s = new ReviewState([0, 1]);
    s.decide(0, 'accepted');
    assert.equal(s.settled(), undefined);
    s.decide(1, 'accepted');
    assert.deepEqual(s.settled(), { kind: 'accept' });
  });
  it('settles to a partial accept with the accepted hunks', () => {
    const s = new ReviewState([0, 1, 2]);
    s.decide(0, 'accepted');
    s.decide(1, 'rejected');
    s.decide(2, 'accepted');
    assert.deepEqual(s.settled(), { kind: 'accept', hunks: [0, 2] });
  });
  it('settles to reject when every hunk is rejected', () => {
    const s = new ReviewState([0, 1]);
    s.decide(0, 'rejected');
    s.decide(1, 'rejected');
    assert.deepEqual(s.settled(), { kind: 'reject' });
  });
  it('shows every hunk not rejected, and undo brings one back', () => {
    const s = new ReviewState([0, 1]);
    s.decide(1, 'rejected');
    assert.deepEqual([...s.shown], [0]);
    s.undo(1);
    assert.deepEqual([...s.shown], [0, 1]);
    assert.equal(s.complete, false);
  });
  it('acceptRest takes every hunk not rejected', () => {
    const s = new ReviewState([0, 1, 2]);
    assert.deepEqual(s.acceptRest(), { kind: 'accept' });
    s.decide(2, 'rejected');
    assert.deepEqual(s.acceptRest(), { kind: 'accept', hunks: [0, 1] });
    s.decide(0, 'rejected');
    s.decide(1, 'rejected');
    assert.deepEqual(s.acceptRest(), { kind: 'reject' });
  });
  it('treats a proposal without hunks as one hunk 0', () => {
    const s = new ReviewState([]);
    assert.deepEqual(s.indices, [0]);
    s.decide(0, 'accepted');
    assert.deepEqual(s.settled(), { kind: 'accept' });
  });
  it('rejects unknown hunks', () => {
    assert.throws(() => new ReviewState([0]).decide(3, 'accepted'), RangeError);
  });
  it('summarises', () => {
    const s = new ReviewState([0, 1, 2]);
    s.decide(0, 'accepted');
    s.decide(1, 'rejected');
    assert.equal(s.summary(), '3 hunks, 1 accepted, 1 rejected');
  });
});

describe('hunk reasons', () => {
  it('carries the reasons of rejected hunks into a partial accept', () => {
    const s = new ReviewState([0, 1, 2]);
    s.decide(0, 'accepted');
    s.decide(1, 'rejected', 'too clever');
    s.decide(2, 'accepted');
    assert.deepEqual(s.settled(), { kind: 'accept', hunks: [0, 2], reason: 'hunk 2: too clever' });
    s.undo(1);
    assert.equal(s.reason, undefined);
  });
  it('keeps a single change reason as written, on a reject', () => {
    const s = new ReviewState([0]);
    s.decide(0, 'rejected', '  not needed ');
    assert.deepEqual(s.settled(), { kind: 'reject', reason: 'not needed' });
  });
});
