/**
 * A raw HTTP/1.x client connection for the online tests that need the bytes on the wire
 * (fast path, Expect: 100-continue, slow clients): it reads responses in order with
 * Content-Length framing and says when the server closed the connection.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { certIdOf, certIdsFor, OCSPRequest, Request, TBSRequest } from '../src/pki/ocsp.ts';
import { fastPathTotals } from '../src/server/fast-path.ts';

/** One parsed HTTP response off the wire. */
export interface Res {
  status: number;
  /** Header lines as sent (name: value), without Date. */
  head: string[];
  headers: Map<string, string>;
  body: Buffer;
  raw: Buffer;
}

export interface RawConnectionOptions {
  /** TLS (the certificate is not checked: tests use a self-signed one). */
  tls?: boolean;
  /** Source address, e.g. 127.0.0.2 to be another client of a per-address limit (still loopback). */
  localAddress?: string;
}

/**
 * A raw connection that reads responses in order: `next()` resolves with the next whole
 * response (Content-Length framing; a 1xx is a response of its own), `closed` when the server
 * ends the connection.
 */
export class RawConnection {
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  ended = false;
  /** When the connection closed (performance.now()); undefined while open. */
  closedAt: number | undefined;
  readonly closed: Promise<void>;
  constructor(port: number, options: RawConnectionOptions = {}) {
    const to = { host: '127.0.0.1', port, localAddress: options.localAddress };
    this.socket = options.tls ? connectTls({ ...to, rejectUnauthorized: false }) : connectTcp({ ...to, noDelay: true });
    this.socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiting?.();
    });
    this.closed = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.ended = true;
        this.closedAt = performance.now();
        this.waiting?.();
        resolve();
      }),
    );
    this.socket.on('error', () => undefined);
  }

  /** Strings are written as latin1 (one byte per char, binary bodies intact). */
  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The bytes received and not yet taken by next(). */
  get unread(): Buffer {
    return this.buf;
  }

  /** The next response; rejects when the connection closes first or after `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<Res> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.take();
      if (r) return r;
      if (this.ended) throw new Error(`connection closed; ${this.buf.length} unread byte(s)`);
      if (Date.now() > deadline) throw new Error(`no response in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 100);
      });
      this.waiting = undefined;
    }
  }

  /** Resolves when the server has closed the connection; rejects after `timeoutMs` saying so. */
  async closedWithin(timeoutMs: number, what = 'the server closed the connection'): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.closed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private take(): Res | undefined {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
    }
    const len = Number(headers.get('content-length') ?? 0);
    if (this.buf.length < end + 4 + len) return undefined;
    const raw = Buffer.from(this.buf.subarray(0, end + 4 + len));
    const body = Buffer.from(this.buf.subarray(end + 4, end + 4 + len));
    this.buf = this.buf.subarray(end + 4 + len);
    return {
      status: Number(lines[0]!.split(' ')[1]),
      head: lines.filter((l) => !/^date:/i.test(l)),
      headers,
      body,
      raw,
    };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** An OCSP request for one certificate without a nonce; `filler` adds a non-critical extension the responder ignores (other bytes, same answer). */
export function ocspRequest(ca: Buffer, serialHex: string, hash: 0 | 1 = 0, filler?: Buffer): Buffer {
  const id = certIdsFor(ca, serialHex)[hash]!;
  const tbs = new TBSRequest({ requestList: [new Request({ reqCert: certIdOf(id) })] });
  if (filler)
    tbs.requestExtensions = [
      new Extension({ extnID: '1.3.6.1.4.1.99999.1', critical: false, extnValue: new OctetString(filler) }),
    ];
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs })));
}

/** A raw HTTP/1.x GET. */
export function getRequest(path: string, o: { host: string; extra?: string }): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${o.host}\r\n${o.extra ?? ''}\r\n`;
}

/** A raw HTTP/1.x POST of an OCSP request. */
export function postRequest(
  body: Buffer,
  o: { host: string; path?: string; extra?: string; version?: string },
): Buffer {
  const head = `POST ${o.path ?? '/ocsp'} HTTP/${o.version ?? '1.1'}\r\nHost: ${o.host}\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\n${o.extra ?? ''}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** How many answers the fast path (every listener's) gave during `fn`. */
export async function fastAnswers(fn: () => Promise<void>): Promise<number> {
  const before = fastPathTotals.answered;
  await fn();
  return fastPathTotals.answered - before;
}
