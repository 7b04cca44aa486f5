/**
 * The fastify side of `rootca serve`'s HTTP: what every route shares (content types, the
 * nosniff header, request metrics, the error answers) and the OCSP routes, the framework's
 * front door to the OCSP answer source (ocsp-source.ts) beside the fast path (fast-path.ts).
 * Both write answers with ocsp-http.ts.
 *
 * HTTP status of OCSP answers: every OCSP-level outcome (successful, malformedRequest,
 * unauthorized, tryLater) is HTTP 200 with the OCSPResponse as the body, so OCSP clients read
 * the status the RFC defines; HTTP errors are kept for HTTP-level problems (413 body too large,
 * 414 GET request too long, 415 a POST whose Content-Type is not application/ocsp-request).
 * Only a bug gives 500 (with an internalError body).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CaError, httpStatusOf } from '../errors.ts';
import { ocspAccessEntry, ocspAnswerHeaders, ocspHttpStatus } from './ocsp-http.ts';
import { errorAnswer, type OcspAnswer } from './ocsp-responder.ts';
import { decodeOcspGetPath } from './ocsp-source.ts';
import type { ServingContext } from './serving-context.ts';

const OCSP_REQUEST = 'application/ocsp-request';
const TEXT = 'text/plain; charset=utf-8';

/**
 * Sets an OCSP answer's headers (ocsp-http.ts, the same the fast path writes) and sends it with
 * `status`. Only what RFC 5019 6.2 and RFC 9112 need: no nosniff (an OCSP response is no page),
 * and Connection set here so node:http adds no Keep-Alive line.
 */
function sendOcsp(reply: FastifyReply, a: OcspAnswer, status: number, nowMs: number): FastifyReply {
  reply.removeHeader('x-content-type-options');
  for (const [name, value] of ocspAnswerHeaders(a, nowMs)) reply.header(name, value);
  reply.header('connection', reply.raw.shouldKeepAlive ? 'keep-alive' : 'close');
  return status === 304 ? reply.code(304).send() : reply.code(status).send(a.body);
}

/** The content type, hooks and error answers every route of a listener shares. */
export function registerHttpBasics(app: FastifyInstance, ctx: ServingContext): void {
  const limit = ctx.opts.ocspBodyLimit;
  app.removeAllContentTypeParsers();
  // RFC 6960 A.1.1: "Content-Type: application/ocsp-request". Another type (or none) with a
  // body is refused with 415 before the body is read; a parameter (`; charset=…`) is allowed.
  app.addContentTypeParser(OCSP_REQUEST, { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => {
    done(null, body);
  });
  app.addHook('onRequest', (_req, reply, done) => {
    reply.header('x-content-type-options', 'nosniff');
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    ctx.countRequest(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    // The error catalogue's status for a CaError.
    const status = err.statusCode ?? (err instanceof CaError ? httpStatusOf(err.code) : 500);
    const refuse = (text: string) => reply.code(status).type(TEXT).header('cache-control', 'no-store').send(text);
    if (status === 413) return refuse(`request body too large: OCSP requests are limited to ${limit} bytes\n`);
    if (status === 415) {
      return refuse(`unsupported media type: OCSP requests are sent as ${OCSP_REQUEST} (RFC 6960 A.1.1)\n`);
    }
    if (status >= 400 && status < 500) return refuse(`${status} ${err.message}\n`);
    req.log.error({ err }, 'request failed');
    if (req.routeOptions.url?.startsWith('/ocsp') || (req.method === 'POST' && req.routeOptions.url === '/')) {
      ctx.countOcsp('internalError', 'error');
      return sendOcsp(reply, errorAnswer('internalError'), 500, 0);
    }
    return reply
      .code(status)
      .type(TEXT)
      .send(status === 503 ? 'service unavailable\n' : 'internal error\n');
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).type(TEXT).send('not found\n'));
}

type Decoded = { der?: Buffer; httpStatus?: number; reason?: string };

/** POST /ocsp, POST / (RFC 6960 A.1) and GET /ocsp/<base64> (RFC 5019 5), answered from ctx.source. */
export function registerOcspRoutes(app: FastifyInstance, ctx: ServingContext): void {
  const limit = ctx.opts.ocspBodyLimit;
  /** `key`: the request as received, for the answer cache; `decode` turns it into DER. */
  const answer = (
    req: FastifyRequest,
    reply: FastifyReply,
    method: 'GET' | 'POST',
    key: string,
    decode: () => Decoded,
  ) => {
    const started = performance.now();
    const st = ctx.state; // one publication for the whole answer
    const now = ctx.clock.now();
    let a = ctx.source.cached(key, st, now);
    if (!a) {
      const decoded = decode();
      if (decoded.httpStatus) {
        return reply
          .code(decoded.httpStatus)
          .type(TEXT)
          .header('cache-control', 'no-store')
          .send(`${decoded.reason}\n`);
      }
      a = decoded.der
        ? ctx.source.answer(key, st, decoded.der, now)
        : errorAnswer('malformedRequest', { reason: decoded.reason ?? 'empty request' });
    }
    ctx.countOcsp(a.outcome, a.source);
    const status = ocspHttpStatus(a, method, req.headers['if-none-match']);
    const micros = Math.round((performance.now() - started) * 1000);
    ctx.accessLog?.appendOcsp(ocspAccessEntry(a, req.ip, method, status, st?.version, micros));
    return sendOcsp(reply, a, status, now.getTime());
  };
  const post = (req: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : undefined;
    if (!body || body.length === 0) return answer(req, reply, 'POST', '', () => ({ reason: 'empty request body' }));
    const key = body.length <= ctx.source.maxKeyLength ? `p${body.toString('latin1')}` : '';
    return answer(req, reply, 'POST', key, () => ({ der: body }));
  };
  app.post('/ocsp', { bodyLimit: limit }, post);
  app.post('/', { bodyLimit: limit }, post);
  app.get('/ocsp/*', (req, reply) => {
    const url = req.raw.url ?? '';
    return answer(req, reply, 'GET', `g${url}`, () => decodeOcspGetPath(url, '/ocsp/', limit));
  });
  app.get('/ocsp', (req, reply) => answer(req, reply, 'GET', '', () => ({ reason: 'no request in the URL' })));
}
