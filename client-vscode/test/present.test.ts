import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDLE_TRAINING } from '../src/protocol';
import { isApprovalPrompt, modelHint, safeOrder, splitMessage, statusText, trainingOutcomeText, verifySummary, wantsModal } from '../src/present';

const approval = [{ title: 'Approve' }, { title: 'Reject' }, { title: 'Always ask for this kind' }, { title: 'Explain' }];

describe('statusText', () => {
  it('shows pending count, adapter and training progress', () => {
    const s = statusText({
      state: 'running', pending: 2, activeAdapter: 'v3',
      training: { ...IDLE_TRAINING, state: 'running', step: 1, total: 4, message: 'training' },
    });
    assert.equal(s.text, '$(sparkle) Tether · 2 pending · v3 · $(loading~spin) training 25%');
    assert.match(s.tooltip, /Active adapter: v3/);
  });
  it('says when the server is down', () => {
    const s = statusText({ state: 'failed', pending: 0, activeAdapter: null, training: null });
    assert.match(s.text, /^\$\(error\) Tether$/);
    assert.match(s.tooltip, /failed/);
  });
});

describe('approval prompts', () => {
  it('recognizes the policy prompt', () => {
    assert.ok(isApprovalPrompt(approval));
    assert.ok(!isApprovalPrompt([{ title: 'OK' }]));
  });
  it('is modal for risky approvals only, unless turned off', () => {
    assert.ok(wantsModal({ type: 2, message: 'Delete function?', actions: approval }, true));
    assert.ok(wantsModal({ type: 3, message: 'Risky: touches tests', actions: approval }, true));
    assert.ok(!wantsModal({ type: 3, message: 'Rename?', actions: approval }, true));
    assert.ok(!wantsModal({ type: 2, message: 'Delete function?', actions: approval }, false));
    assert.ok(!wantsModal({ type: 1, message: 'Server error', actions: [{ title: 'Retry' }] }, true));
  });
  it('splits a long message into title and detail', () => {
    assert.deepEqual(splitMessage('Apply?\n\nIt deletes code.'), { title: 'Apply?', detail: 'It deletes code.' });
    assert.deepEqual(splitMessage('One line'), { title: 'One line' });
  });
});

describe('verifySummary', () => {
  it('reports an intact chain and a broken one', () => {
    assert.deepEqual(verifySummary({ ok: true, rows: 12, head_hash: 'abcdef0123456789' }), {
      ok: true, text: 'Audit log OK: 12 decisions, chain intact (head abcdef012345).',
    });
    const bad = verifySummary({ ok: false, rows: 12, first_broken_seq: 5, kind: 'edited', detail: 'hash mismatch' });
    assert.equal(bad.ok, false);
    assert.match(bad.text, /row 5: edited: hash mismatch/);
    assert.equal(verifySummary(undefined).ok, false);
  });
});

describe('trainingOutcomeText', () => {
  it('names the adapter and the failure', () => {
    assert.match(trainingOutcomeText({ ...IDLE_TRAINING, state: 'promoted', adapterVersion: 'v2' }), /adapter v2; it is now active/);
    assert.match(trainingOutcomeText({ ...IDLE_TRAINING, state: 'refused', adapterVersion: 'v3', message: 'eval lower' }), /v3 but kept the active one \(eval lower\)/);
    assert.match(trainingOutcomeText({ ...IDLE_TRAINING, state: 'failed', message: 'OOM' }), /failed \(OOM\)/);
    assert.match(trainingOutcomeText({ ...IDLE_TRAINING, state: 'cancelled' }), /cancelled/);
  });
});

describe('safeOrder', () => {
  it('never puts the action that changes code first', () => {
    const titles = safeOrder([{ title: 'Approve' }, { title: 'Reject' }, { title: 'Always ask for this kind' }, { title: 'Explain' }]).map((a) => a.title);
    assert.deepEqual(titles, ['Explain', 'Reject', 'Always ask for this kind', 'Approve']);
  });
});

describe('modelHint', () => {
  it('says the embedded model is for trying Tether, and suggests one for this machine', () => {
    assert.match(modelHint('', 16, []), /embedded 135M model is for trying Tether offline.*ollama:qwen2.5-coder:7b/);
    assert.match(modelHint('embedded:smollm2', 64, ['llama3:8b', 'qwen2.5-coder:14b']), /ollama:qwen2.5-coder:14b \(already pulled/);
    assert.equal(modelHint('ollama:x', 16, []), 'The student model is ollama:x.');
  });
});
