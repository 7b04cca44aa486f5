/**
 * The Repository over HTTP (R-2.1, CPS 2.1/2.2): the page, the CA certificates (DER and PEM),
 * CRLs, documents and issued certificates from the publication served, with caching headers
 * that never outlive a CRL's nextUpdate; and the operations routes (/healthz, /metrics).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeSerialHex } from '../pki/integer.ts';
import { derToPem } from '../pki/pem.ts';
import { PAGE_CSS_HASH } from './repository-page.ts';
import type { ServingContext } from './serving-context.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const httpDate = (d: Date) => d.toUTCString();
const PEM_CHAIN = 'application/pem-certificate-chain';

/** The body, or 304 when If-None-Match names its ETag (RFC 9110 13.1.2). */
function send304OrBody(req: FastifyRequest, reply: FastifyReply, etag: string, body: Buffer): FastifyReply {
  reply.header('etag', etag);
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return reply.code(304).send();
  return reply.send(body);
}

/** 503 while no publication has been imported: retry in 30 s, never cached. */
function unavailable(reply: FastifyReply): FastifyReply {
  return reply
    .code(503)
    .type('text/plain; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('retry-after', '30')
    .send('no publication has been imported yet\n');
}

/** One file of the publication served (or `alt`'s spelling of it), with caching that never outlives a CRL's nextUpdate. */
function serveFile(
  ctx: ServingContext,
  req: FastifyRequest,
  reply: FastifyReply,
  path: string,
  alt?: () => string | undefined,
) {
  const st = ctx.state;
  if (!st) return unavailable(reply);
  const pub = st.publication;
  let item = pub.items.get(path);
  if (!item && alt) {
    const p = alt();
    if (p) item = pub.items.get(p);
  }
  if (!item || item.kind === 'ocsp-response') return reply.callNotFound();
  const data = pub.files.get(item.path)!;
  const now = ctx.clock.now();
  let cache = 'public, max-age=3600';
  if (item.kind === 'crl') {
    // A new CRL may be published at any time: revalidate at least hourly, never past nextUpdate.
    // The item is the CA's current CRL or, after a re-key, one signed by an earlier key.
    const crl = pub.previousKeyCrls.find((c) => c.path === item!.path) ?? pub.crls.get(item.ca!)!;
    const next = crl.parsed.nextUpdate;
    const left = next ? Math.max(0, Math.floor((next.getTime() - now.getTime()) / 1000)) : 3600;
    cache = `public, max-age=${Math.min(3600, left)}, must-revalidate`;
    reply.header('last-modified', httpDate(crl.parsed.thisUpdate));
  } else {
    if (item.kind === 'ca-certificate' || item.kind === 'certificate') cache = 'public, max-age=86400';
    reply.header('last-modified', httpDate(new Date(pub.manifest.createdAt)));
  }
  reply.type(item.mediaType).header('cache-control', cache);
  return send304OrBody(req, reply, `"${item.sha256}"`, data);
}

/** The Repository routes: files of the publication served and the page. */
export function registerRepositoryRoutes(app: FastifyInstance, ctx: ServingContext): void {
  app.get('/certs/:file', (req, reply) => {
    const { file } = req.params as { file: string };
    if (file.endsWith('.pem')) {
      const st = ctx.state;
      if (!st) return unavailable(reply);
      // A CA certificate by name, or a re-keyed CA's link certificate by its .crt path.
      const der =
        st.publication.cas.get(file.slice(0, -4))?.der ??
        st.publication.links.find((l) => l.path === `certs/${file.slice(0, -4)}.crt`)?.der;
      if (!der) return reply.callNotFound();
      const pem = Buffer.from(derToPem(der, 'CERTIFICATE'), 'ascii');
      reply
        .type(PEM_CHAIN)
        .header('cache-control', 'public, max-age=86400')
        .header('last-modified', httpDate(new Date(st.publication.manifest.createdAt)));
      return send304OrBody(req, reply, `"${sha256(pem)}"`, pem);
    }
    return serveFile(ctx, req, reply, `certs/${file}`);
  });
  app.get('/crl/:file', (req, reply) => serveFile(ctx, req, reply, `crl/${(req.params as { file: string }).file}`));
  app.get('/docs/:file', (req, reply) => serveFile(ctx, req, reply, `docs/${(req.params as { file: string }).file}`));
  app.get('/issued/:ca/:file', (req, reply) => {
    const { ca, file } = req.params as { ca: string; file: string };
    return serveFile(ctx, req, reply, `issued/${ca}/${file}`, () => {
      // Any spelling of the serial (upper case, leading zeros, 0x) finds the certificate.
      if (!file.endsWith('.crt')) return undefined;
      try {
        return ctx.state?.publication.certificates.get(ca)?.get(normalizeSerialHex(file.slice(0, -4)))?.path;
      } catch {
        return undefined;
      }
    });
  });

  app.get('/', (req, reply) => {
    const st = ctx.state;
    if (!st) return unavailable(reply);
    const { html, etag } = ctx.page(st.publication);
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'public, max-age=60')
      .header(
        'content-security-policy',
        `default-src 'none'; style-src ${PAGE_CSS_HASH}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      )
      .header('referrer-policy', 'no-referrer')
      .header('last-modified', httpDate(new Date(st.publication.manifest.createdAt)));
    return send304OrBody(req, reply, etag, html);
  });
}

/** /healthz (ready, degraded or unavailable, and why) and /metrics (Prometheus). */
export function registerOperationsRoutes(app: FastifyInstance, ctx: ServingContext): void {
  app.get('/healthz', (_req, reply) => {
    const st = ctx.state;
    reply.header('cache-control', 'no-store');
    const problems = ctx.problems(ctx.clock.now());
    const responder = ctx.responderName;
    const store = { location: ctx.store.location, ...ctx.storeConnection() };
    if (!st)
      return reply.code(503).send({
        status: 'unavailable',
        version: null,
        createdAt: null,
        responder,
        store,
        problems: ['no publication has been imported yet', ...problems],
      });
    // Degraded is still HTTP 200: the answers come from a verified publication held in memory.
    return reply.send({
      status: problems.length ? 'degraded' : 'ready',
      version: st.version,
      responder,
      store,
      createdAt: st.publication.manifest.createdAt,
      installation: st.publication.manifest.installation,
      cas: [...st.publication.cas.keys()],
      responders: [...st.responders.keys()],
      problems,
      pid: process.pid,
    });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type(ctx.metrics.registry.contentType).header('cache-control', 'no-store');
    return ctx.metrics.text();
  });
}
