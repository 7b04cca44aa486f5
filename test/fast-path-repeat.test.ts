/**
 * The fast path's repeated-request shortcut (src/server/fast-path.ts, FastConnection.repeated):
 * the same bytes again on a connection are answered from the same key without parsing; bytes
 * that differ anywhere are parsed (their own key, their own answer); a kept answer that is gone
 * (source.cached undefined) is decided again, not served stale; pipelined repeats stay in order.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { OcspAnswer } from '../src/server/ocsp-responder.ts';
import type { OcspSource } from '../src/server/ocsp-source.ts';
import { fastPathOn, taggedAnswer, turn } from './fast-path-fakes.ts';

test('fast path: a repeated request is answered without parsing, a different one parsed', async () => {
  const answers = new Map<string, OcspAnswer>();
  const cachedAsked: string[] = [];
  const decided: string[] = [];
  let forget = false;
  const source: OcspSource = {
    cached(key) {
      cachedAsked.push(key);
      return forget ? undefined : answers.get(key);
    },
    answer(key, _state, der) {
      decided.push(key);
      const a = taggedAnswer(der[0]!);
      answers.set(key, a);
      return a;
    },
    clear() {},
    maxKeyLength: 1024,
  };
  const server = new EventEmitter();
  const fp = fastPathOn(server, source);
  const written: Buffer[] = [];
  const sock = Object.assign(new EventEmitter(), {
    remoteAddress: '127.0.0.1',
    setNoDelay() {},
    setTimeout() {},
    write: (b: Buffer) => written.push(b) > 0,
    end() {},
    destroy() {},
    pause() {},
    resume() {},
  });
  server.emit('connection', sock);
  // base64url of one byte each: AQ (0x01), Ag (0x02): same length, one byte apart.
  const get = (p: string) => Buffer.from(`GET /ocsp/${p} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1');
  const bodyOf = (b: Buffer) => b.subarray(b.length - 40);
  // Answers are written after the event loop's turn (FastPathServer.writeAnswersLater).
  const send = async (b: Buffer) => {
    written.length = 0;
    sock.emit('data', b);
    assert.equal(written.length, 0, 'nothing written within the turn');
    await turn();
    return written.map(bodyOf);
  };

  assert.deepEqual(await send(get('AQ')), [Buffer.alloc(40, 1)]);
  assert.deepEqual(decided, ['g/ocsp/AQ']);
  assert.deepEqual(await send(get('AQ')), [Buffer.alloc(40, 1)]);
  assert.deepEqual(await send(get('Ag')), [Buffer.alloc(40, 2)]);
  assert.deepEqual(decided, ['g/ocsp/AQ', 'g/ocsp/Ag']);
  // Pipelined: the repeat, another, the repeat again, in request order.
  await send(Buffer.concat([get('Ag'), get('AQ'), get('AQ')]));
  assert.equal(written.length, 1); // one write for the three answers
  const parts = written[0]!.toString('latin1').split('HTTP/1.1 200 OK').slice(1);
  assert.deepEqual(
    parts.map((p) => p.charCodeAt(p.length - 1)),
    [2, 1, 1],
  );
  // A kept answer that is gone is decided again (not served from the connection's memory).
  forget = true;
  assert.deepEqual(await send(get('AQ')), [Buffer.alloc(40, 1)]);
  assert.equal(decided.at(-1), 'g/ocsp/AQ');
  assert.equal(decided.length, 3);
  // Every lookup used the key of its own bytes.
  assert.ok(cachedAsked.every((k) => k === 'g/ocsp/AQ' || k === 'g/ocsp/Ag'));
  assert.equal(fp.answered, 7);
  fp.close();
});
