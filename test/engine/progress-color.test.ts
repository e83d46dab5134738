// The spinner on a terminal: coloured by default, no colour codes at all with NO_COLOR,
// and plain lines on a terminal that reports no width (instead of flooding it).
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';

// Colour support is decided once, when chalk loads, from the environment (a CI variable
// turns it off): force it, so "coloured by default" is a real contrast to NO_COLOR.
process.env['FORCE_COLOR'] = '1';
const { colorAllowed, createProgress } = await import('../../src/engine/progress.js');

/** A stream that says it is a terminal of the given width, and keeps what is written. */
function fakeTerminal(columns: number): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough();
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString()));
  Object.assign(s, { isTTY: true, columns, rows: 40, cursorTo: () => true, moveCursor: () => true, clearLine: () => true });
  return { stream: s as unknown as NodeJS.WriteStream, text: () => text };
}

const SGR_COLOR = /\x1b\[(?:3[0-9]|9[0-7]|38;[0-9;]+)m/;

async function drive(color: boolean | undefined, columns = 100): Promise<string> {
  const t = fakeTerminal(columns);
  const p = createProgress({ quiet: false, stream: t.stream, interactive: true, ...(color !== undefined ? { color } : {}) });
  p.update('observing the cluster');
  await new Promise((r) => setTimeout(r, 250)); // a few spinner frames (80 ms each)
  p.warn('something to say');
  p.info('a line');
  p.stop();
  return t.text();
}

describe('progress colours', () => {
  it('NO_COLOR: present and not empty', () => {
    assert.equal(colorAllowed({}), true);
    assert.equal(colorAllowed({ NO_COLOR: '' }), true);
    assert.equal(colorAllowed({ NO_COLOR: '1' }), false);
  });

  it('colour on a terminal by default; none at all without it', async () => {
    assert.match(await drive(true), SGR_COLOR);
    const plain = await drive(false);
    assert.doesNotMatch(plain, SGR_COLOR);
    assert.match(plain, /observing the cluster/);
    assert.match(plain, /! something to say/);
  });

  it('follows NO_COLOR from the environment', async () => {
    const before = process.env['NO_COLOR'];
    process.env['NO_COLOR'] = '1';
    try {
      assert.doesNotMatch(await drive(undefined), SGR_COLOR);
    } finally {
      if (before === undefined) delete process.env['NO_COLOR'];
      else process.env['NO_COLOR'] = before;
    }
  });

  it('a terminal of no width gets plain timestamped lines', async () => {
    const out = await drive(true, 0);
    assert.doesNotMatch(out, /\x1b\[/);
    assert.match(out, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ observing the cluster$/m);
  });
});
