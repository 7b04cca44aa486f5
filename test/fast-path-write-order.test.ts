/**
 * The fast path writes the answers of one turn of the event loop after that turn
 * (src/server/fast-path.ts, FastPathServer.writeAnswersLater), and never out of order: a
 * connection's answers go out before its end, before a close it asked for, and before it is
 * handed to the HTTP server with the rest of its bytes.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { OcspSource } from '../src/server/ocsp-source.ts';
import { fastPathOn, taggedAnswer, turn } from './fast-path-fakes.ts';

const source: OcspSource = {
  cached: () => undefined,
  answer: (_key, _state, der) => taggedAnswer(der[0]!),
  clear() {},
  maxKeyLength: 1024,
};

/** A fake server with the fast path in front, and what each fake socket saw, in order. */
function setUp() {
  const server = new EventEmitter();
  const events: string[] = [];
  server.on('connection', (s: { name: string }) => events.push(`${s.name} handed over`));
  const fp = fastPathOn(server, source);
  const socket = (name: string) => {
    const s = Object.assign(new EventEmitter(), {
      name,
      remoteAddress: '127.0.0.1',
      destroyed: false,
      setNoDelay() {},
      setTimeout() {},
      write: (b: Buffer) => {
        // The tag byte ends each answer's body: one letter per answer in the write.
        const tags = b
          .toString('latin1')
          .split('HTTP/1.1 200 OK')
          .slice(1)
          .map((p) => p.charCodeAt(p.length - 1));
        events.push(`${name} write ${tags.join(',')}`);
        return true;
      },
      end: () => events.push(`${name} end`),
      destroy() {},
      pause() {},
      resume() {},
      unshift() {},
    });
    server.emit('connection', s);
    return s;
  };
  return { fp, events, socket };
}

const get = (tag: string, extra = '') => Buffer.from(`GET /ocsp/${tag} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`, 'latin1');

test('fast path: the answers of one turn are written after it, each connection its own, in request order', async () => {
  const { fp, events, socket } = setUp();
  const a = socket('a');
  const b = socket('b');
  a.emit('data', get('AQ')); // base64url of 0x01
  b.emit('data', Buffer.concat([get('Ag'), get('Aw')])); // 0x02, then 0x03 pipelined
  assert.deepEqual(events, [], 'nothing is written within the turn');
  await turn();
  assert.deepEqual(events, ['a write 1', 'b write 2,3']);
  fp.close();
});

test('fast path: an answer goes out before the end of its connection, a close it asked for, and a hand-over', async () => {
  const { fp, events, socket } = setUp();
  // The client's end arrives in the same turn as its request: the answer first, then our end.
  const a = socket('a');
  a.emit('data', get('AQ'));
  a.emit('end');
  // Connection: close: the answer, then the end, at once.
  const b = socket('b');
  b.emit('data', get('Ag', 'Connection: close\r\n'));
  // Pipelined behind an answer, a request for the HTTP server: the answer, then the hand-over.
  const c = socket('c');
  c.emit('data', Buffer.concat([get('Aw'), Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')]));
  assert.deepEqual(events, ['a write 1', 'a end', 'b write 2', 'b end', 'c write 3', 'c handed over']);
  await turn();
  assert.equal(events.length, 6, 'nothing is written twice');
  fp.close();
});
