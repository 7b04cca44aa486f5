/**
 * `Expect: 100-continue` (RFC 9110 10.1.1): "100 Continue" is sent only once a handler starts
 * reading the request body, never before the request has been judged from its head.
 *
 * Node's HTTP server, left alone, sends 100 as soon as the head is parsed, so an oversize
 * (413), wrongly typed (415) or unrouted (404) upload is first invited and then refused while
 * its body is on the way; the client may then see only the 100 before the connection closes.
 * RFC 9110 10.1.1: "A server MAY omit sending a 100 (Continue) response if it has already
 * received some or all of the content for the corresponding request, or if the framing
 * indicates that there is no content", and a server that answers with a final status without
 * reading the content should say whether it closes (RFC 9112 9.6). Node marks such a response
 * `Connection: close` by itself when no 100 went out, and closes after it.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

/** Makes `server` send 100 Continue lazily: when the body is first read and no final answer has started. */
export function continueWhenBodyIsRead(server: HttpServer | HttpsServer): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const read = req._read;
    // Readable calls _read when a consumer first wants data (a 'data' listener, resume, read,
    // pipe). Node also drains an unread body after the answer is sent: no 100 then.
    req._read = function readAfterContinue(this: IncomingMessage, size: number) {
      req._read = read;
      if (!res.headersSent && !res.writableEnded) res.writeContinue();
      return read.call(this, size);
    };
    server.emit('request', req, res);
  });
}
