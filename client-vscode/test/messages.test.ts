import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StderrLevels, isCancellation, userMessage, withoutPrefix } from '../src/messages';
import { enclosingBlock } from '../src/text';
import { discoverInterpreter, noInterpreterMessage } from '../src/settings';

describe('userMessage', () => {
  it('reads the server catalogue: its line, its actions, no prefix of its own', () => {
    const error = Object.assign(new Error('No suggestion for this selection: the model gave no code. Try again.'), {
      code: -32803,
      data: {
        kind: 'agent_failed',
        message: { code: 'no_proposal', actions: [{ id: 'retry', title: 'Retry' }, { bad: 1 }], detail: ['student: no code block'] },
      },
    });
    const m = userMessage(error);
    assert.equal(m.text, 'No suggestion for this selection: the model gave no code. Try again.');
    assert.deepEqual(m.actions, [{ id: 'retry', title: 'Retry' }]);
    assert.equal(m.code, 'no_proposal');
    assert.deepEqual(m.detail, ['student: no code block']);
  });
  it('never says Tether twice, and knows a cancel', () => {
    assert.equal(withoutPrefix('Tether: Tether: no proposal'), 'no proposal');
    assert.equal(userMessage({ message: 'Tether: stale' }).text, 'stale');
    assert.ok(isCancellation({ code: -32800, message: 'cancelled' }));
    assert.ok(!isCancellation(new Error('boom')));
  });
});

describe('StderrLevels', () => {
  it('logs each server line at its own level, library chatter as information', () => {
    const l = new StderrLevels();
    assert.equal(l.levelOf('tether WARNING tether.lsp.protocol: malformed'), 'warn');
    assert.equal(l.levelOf('tether DEBUG bm25s: Building index'), 'debug');
    assert.equal(l.levelOf('Loading checkpoint shards: 100%|██████| 2/2'), 'info');
    assert.equal(l.levelOf('tether ERROR tether.lsp: propose failed'), 'error');
    assert.equal(l.levelOf('Traceback (most recent call last):'), 'error');
    assert.equal(l.levelOf('  File "x.py", line 1, in <module>'), 'error');
    assert.equal(l.levelOf('ValueError: bad'), 'error');
    assert.equal(l.levelOf('tether INFO tether.service: ready'), 'info');
  });
});

describe('enclosingBlock', () => {
  const lines = ['class A:', '    def f(self):', '        x = 1', '', '        return x', '', 'def g():', '    pass'];
  it('widens a few lines to their function, then the function to its class', () => {
    assert.deepEqual(enclosingBlock(lines, 2, 2), { start: 1, end: 4 });
    assert.deepEqual(enclosingBlock(lines, 1, 4), { start: 0, end: 4 });
    assert.deepEqual(enclosingBlock(lines, 7, 7), { start: 6, end: 7 });
    assert.equal(enclosingBlock(lines, 0, 4), undefined);
  });
});

describe('discoverInterpreter', () => {
  const base = { userHome: '/home/u', workspaceFolder: '/ws', fromPythonExtension: async () => '/opt/py/bin/python' };
  it('prefers the workspace .venv, and skips interpreters without Tether', async () => {
    const d = await discoverInterpreter({
      ...base,
      configured: '',
      exists: (p) => p === '/ws/.venv/bin/python',
      hasTether: async (c) => c === '/opt/py/bin/python',
    });
    assert.deepEqual(d.found, { command: '/opt/py/bin/python', source: 'python-extension' });
    assert.deepEqual(d.tried.map((t) => t.command), ['/ws/.venv/bin/python', '/opt/py/bin/python']);
  });
  it('says plainly when none has Tether, and how to fix it', async () => {
    const d = await discoverInterpreter({ ...base, configured: '', exists: () => false, hasTether: async () => false });
    assert.equal(d.found, undefined);
    assert.match(noInterpreterMessage(d), /No Python interpreter with Tether installed was found \(tried \/opt\/py\/bin\/python, python3, python\).*pip install tether/);
  });
  it('reports a wrong tether.python instead of silently using another', async () => {
    const d = await discoverInterpreter({ ...base, configured: '~/bad/python', exists: () => true, hasTether: async (c) => c === 'python3' });
    assert.equal(d.found, undefined);
    assert.match(noInterpreterMessage(d), /tether.python \(\/home\/u\/bad\/python\) does not have Tether/);
  });
});
