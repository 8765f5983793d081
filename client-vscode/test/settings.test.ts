import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandPath, resolveInterpreter, serverSettings } from '../src/settings';

describe('serverSettings', () => {
  it('sends only what the user set, nested in the server names', () => {
    const set: Record<string, unknown> = {
      model: 'ollama:qwen',
      'policy.autoThreshold': 0.8,
      'training.maxSteps': 2,
      reviewOnSave: false,
      teacher: '  ',
      python: '/usr/bin/python3', // client-only: never sent
      studentThreshold: null,
    };
    assert.deepEqual(
      serverSettings((k) => set[k]),
      { model: 'ollama:qwen', policy: { auto_threshold: 0.8 }, training: { max_steps: 2 }, review_on_save: false },
    );
  });
  it('is empty when nothing is set, so tether.toml and TETHER_* decide', () => {
    assert.deepEqual(serverSettings(() => undefined), {});
  });
});

describe('expandPath', () => {
  it('expands ~, ${userHome} and ${workspaceFolder}', () => {
    const vars = { workspaceFolder: '/ws', userHome: '/home/u' };
    assert.equal(expandPath('~/data', vars), '/home/u/data');
    assert.equal(expandPath('${workspaceFolder}/.venv/bin/python', vars), '/ws/.venv/bin/python');
    assert.equal(expandPath('${userHome}/x', vars), '/home/u/x');
  });
});

describe('resolveInterpreter', () => {
  const base = { workspaceFolder: '/ws', userHome: '/home/u' };
  it('prefers the tether.python setting', async () => {
    const r = await resolveInterpreter({ ...base, configured: '${workspaceFolder}/.venv/bin/python', fromPythonExtension: async () => '/other' });
    assert.deepEqual(r, { command: '/ws/.venv/bin/python', source: 'setting' });
  });
  it('then the Python extension', async () => {
    const r = await resolveInterpreter({ ...base, configured: '', fromPythonExtension: async () => '/env/bin/python' });
    assert.deepEqual(r, { command: '/env/bin/python', source: 'python-extension' });
  });
  it('then python3, also when the Python extension fails', async () => {
    const r = await resolveInterpreter({ ...base, configured: ' ', fromPythonExtension: async () => { throw new Error('boom'); } });
    assert.deepEqual(r, { command: 'python3', source: 'default' });
  });
});
