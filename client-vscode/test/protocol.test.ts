import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ContractError,
  historyParams,
  isTrainingTerminal,
  normalizeDecision,
  normalizeHistory,
  normalizeProfile,
  normalizeProposal,
  normalizeTraining,
  proposalIdOfData,
  proposalIdsOf,
  trainingFraction,
} from '../src/protocol';

const range = { start: { line: 1, character: 0 }, end: { line: 2, character: 4 } };

describe('normalizeProposal', () => {
  it('reads the server’s proposal', () => {
    const p = normalizeProposal({
      id: 'p1', uri: 'file:///w/a.py', path: 'a.py', version: 3, range, task: 'improve',
      classKey: 'improve|python|src|s', risk: ['deletes_code'], rationale: 'Because.', original: 'x',
      proposed: 'y', model: 'replay:f', role: 'student', adapterVersion: null, state: 'pending',
      hunks: [{ index: 0, range, origStart: 0, origEnd: 1, oldText: 'x', newText: 'y' }],
    });
    assert.equal(p.classKey, 'improve|python|src|s');
    assert.equal(p.hunks[0].origEnd, 1);
    assert.equal(p.hunks[0].newText, 'y');
    assert.equal(p.adapterVersion, null);
    assert.deepEqual(p.risk, ['deletes_code']);
  });
  it('accepts a {proposal} wrapper', () => {
    const p = normalizeProposal({ proposal: { id: 'p2', range, classKey: 'k', hunks: [{ range, origStart: 0, origEnd: 0 }] } });
    assert.equal(p.id, 'p2');
    assert.equal(p.classKey, 'k');
    assert.equal(p.hunks[0].index, 0);
  });
  it('names what is missing', () => {
    assert.throws(() => normalizeProposal({ id: 'x' }), ContractError);
    assert.throws(() => normalizeProposal({ range }), /no id/);
    assert.throws(() => normalizeProposal({ id: 'x', range, hunks: [{ range }] }), /origStart/);
  });
});

describe('history', () => {
  it('normalizes items and keeps paging numbers', () => {
    const page = normalizeHistory(
      { items: [{ seq: 7, ts: '2026-01-01T00:00:00+00:00', outcome: 'rejected', actor: 'user', proposalId: 'p', reason: 'no', hunks: [0] }], total: 31 },
      { offset: 25, limit: 25 },
    );
    assert.equal(page.total, 31);
    assert.equal(page.offset, 25);
    assert.equal(page.items[0].proposalId, 'p');
    assert.equal(page.items[0].reason, 'no');
    assert.deepEqual(page.items[0].hunks, [0]);
  });
  it('unwraps a decisionRecorded payload', () => {
    assert.equal(normalizeDecision({ record: { seq: 3, outcome: 'accepted', actor: 'user' } }).seq, 3);
  });
  it('refuses an answer without items', () => {
    assert.throws(() => normalizeHistory({ total: 1 }), ContractError);
  });
  it('builds the store’s HistoryFilter from the panel query', () => {
    assert.deepEqual(
      historyParams({ offset: 10.7, limit: 0, search: '  cart ', outcome: 'accepted', actor: 'user', classKey: '', path: '' }),
      { offset: 10, limit: 1, filter: { search: 'cart', outcome: ['accepted'], actor: 'user' } },
    );
    assert.deepEqual(historyParams({ offset: 0, limit: 25, classKey: 'k' }).filter, { classKey: 'k' });
  });
});

describe('normalizeProfile', () => {
  it('reads classes with their policy, adapters and training', () => {
    const p = normalizeProfile({
      classes: [{ classKey: 'k', n: 4, mean: 0.7, lower: 0.4, upper: 0.9, credibleMass: 0.9, mature: false,
        policy: { mode: 'ask', reason: 'not sure yet' } }],
      adapters: [{ version: 'v1', status: 'refused', metrics: { win_rate: 0.4, note: 'x', nested: { a: 1 } } },
        { version: 'v2', status: 'active', createdAt: '2026-01-01', metrics: {} }],
      training: { state: 'running', step: 2, total: 8, message: 'step 2' },
    });
    assert.equal(p.classes[0].mode, 'ask');
    assert.equal(p.classes[0].reason, 'not sure yet');
    assert.equal(p.classes[0].mean, 0.7);
    assert.deepEqual(p.adapters[0].metrics, { win_rate: 0.4, note: 'x' });
    assert.equal(p.activeAdapter, 'v2');
    assert.equal(trainingFraction(p.training), 0.25);
  });
  it('takes classes as a mapping and flat mode/reason too', () => {
    const p = normalizeProfile({ classes: { k: { n: 1, mode: 'auto', reason: 'r' } }, adapters: [], training: null });
    assert.equal(p.classes[0].classKey, 'k');
    assert.equal(p.classes[0].mode, 'auto');
    assert.equal(p.training.state, 'idle');
    assert.equal(p.activeAdapter, null);
  });
});

describe('training status', () => {
  it('maps worker events onto states', () => {
    assert.equal(normalizeTraining({ event: 'progress', step: 1, total: 2 }).state, 'running');
    assert.equal(normalizeTraining({ running: true }).state, 'running');
    assert.equal(normalizeTraining({ status: { state: 'done', version: 'v3' } }).adapterVersion, 'v3');
    const t = normalizeTraining({ state: 'evaluating', step: 3, total: 4, message: '' });
    assert.equal(t.state, 'running');
    assert.equal(t.phase, 'evaluating');
    const idle = normalizeTraining({ state: 'idle', lastResult: { status: 'promoted', reason: 'better', version: 'v2' } });
    assert.equal(idle.state, 'idle');
    assert.deepEqual(idle.lastResult, { status: 'promoted', reason: 'better', version: 'v2' });
    assert.equal(idle.adapterVersion, 'v2');
    assert.equal(normalizeTraining({ started: true, status: { state: 'preparing' } }).state, 'running');
    assert.ok(isTrainingTerminal(normalizeTraining({ state: 'cancelled' })));
    assert.ok(!isTrainingTerminal(normalizeTraining({ state: 'running' })));
    assert.equal(trainingFraction(normalizeTraining({ state: 'running' })), null);
  });
});

describe('ids', () => {
  it('reads proposal ids from a propose answer and from diagnostic data', () => {
    assert.deepEqual(proposalIdsOf({ proposalIds: ['a', 'b'] }), ['a', 'b']);
    assert.deepEqual(proposalIdsOf({ proposal_ids: ['a'] }), []); // the contract is camelCase
    assert.deepEqual(proposalIdsOf(null), []);
    assert.equal(proposalIdOfData('abc'), 'abc');
    assert.equal(proposalIdOfData({ proposalId: 'abc' }), 'abc');
    assert.equal(proposalIdOfData({ proposal_id: 'abc' }), null);
    assert.equal(proposalIdOfData(42), null);
  });
});
