/**
 * The Repository page a person reads (R-2.1, CPS 2.1-2.4): the CAs, their current CRLs, the
 * certificates they issued with their status, and the documents with their version history.
 * Plain HTML: headings, tables with header cells (scope), a lang attribute, inline CSS only,
 * no scripts and no external assets, so it works in any browser and under a strict CSP.
 */
import { createHash } from 'node:crypto';
import { compareDocumentVersions, type CaStatus } from '../publish/format.ts';
import type { VerifiedPublication } from '../publish/verify.ts';

/** The inline style sheet; its hash goes into the Content-Security-Policy. */
export const PAGE_CSS = `
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1b;background:#fff;margin:0 auto;max-width:72rem;padding:1rem 1.25rem 3rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.3rem;margin-top:2rem;border-bottom:2px solid #1d4f91;padding-bottom:.2rem}h3{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.95rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #b8c2cc;padding:.35rem .5rem;text-align:left;vertical-align:top}thead th{background:#e8eef5}tbody th{font-weight:600}
code{font:.85rem ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}a{color:#0b4db3}a:focus{outline:3px solid #f3b800}
.revoked{color:#a3000b;font-weight:600}.good{color:#0b6b2b}.note{color:#4a4a4a}footer{margin-top:2.5rem;font-size:.9rem;color:#4a4a4a}
`.trim();

/** `'sha256-…'` source for the style element (CSP Level 2). */
export const PAGE_CSS_HASH = `'sha256-${createHash('sha256').update(PAGE_CSS).digest('base64')}'`;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function time(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return escapeHtml(String(iso));
  const text = `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return `<time datetime="${d.toISOString()}">${text}</time>`;
}

/** Colon-separated octets, breakable only between octets. */
function octets(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(':<wbr>');
}

function fingerprint(hex: string): string {
  return octets(hex);
}

function serialText(hex: string): string {
  return octets(hex.replace(/^00(?=[89a-fA-F])/, ''));
}

const CA_STATUS: Record<CaStatus, string> = {
  active: '<span class="good">Active</span>',
  terminated: '<span class="revoked">Terminated</span> (CPS 5.8: its certificates are revoked)',
  compromised: '<span class="revoked">Compromised</span> (CPS 5.7.3: do not trust its signatures)',
};

/**
 * The CPS and CPs (CPS 2.2 "the latest version of this CPS and the relevant CP"; 9.12: each
 * with its version history): per document the current version at a stable link, the history
 * file, and every version with its date, kind of amendment, description and claim period.
 */
function documentsSection(pub: VerifiedPublication): string[] {
  const e = escapeHtml;
  const out: string[] = [];
  if (pub.documents.length === 0) return ['<p class="note">No documents are published.</p>'];
  const names = [...new Set(pub.documents.map((d) => d.name))];
  for (const name of names) {
    const versions = pub.documents
      .filter((d) => d.name === name && d.role === 'version')
      .sort((a, b) => compareDocumentVersions(b.meta.version, a.meta.version));
    const latest = pub.documents.find((d) => d.name === name && d.role === 'latest');
    const history = pub.documents.find((d) => d.name === name && d.role === 'history');
    const title = versions[0]?.meta.title ?? latest?.meta.title ?? name;
    out.push(`<h3 id="doc-${e(name)}">${e(title)}</h3>`);
    const links = [
      latest ? `<a href="/${e(latest.path)}">current version (${e(latest.meta.version)})</a>` : '',
      history ? `<a href="/${e(history.path)}">version history</a>` : '',
    ].filter(Boolean);
    if (links.length) out.push(`<p>${links.join(' · ')}</p>`);
    out.push(`<table>
<caption>${e(title)}: versions (latest first)</caption>
<thead><tr><th scope="col">Version</th><th scope="col">Published</th><th scope="col">Amendment</th><th scope="col">Description</th><th scope="col">Claims until</th><th scope="col">SHA-256</th><th scope="col">Download</th></tr></thead>
<tbody>`);
    versions.forEach((d, i) => {
      const kind = d.meta.critical === undefined ? '' : d.meta.critical ? 'critical (major)' : 'non-critical (minor)';
      out.push(
        `<tr><th scope="row">${e(d.meta.version)}${i === 0 ? ' (current)' : ''}</th><td>${d.meta.publishedAt ? time(d.meta.publishedAt) : ''}</td><td>${kind}</td>` +
          `<td>${e(d.meta.description ?? '')}</td><td>${d.meta.claimsUntil ? time(d.meta.claimsUntil) : ''}</td><td><code>${e(d.sha256)}</code></td>` +
          `<td><a href="/${e(d.path)}">${e(d.path.split('/').pop()!)}</a></td></tr>`,
      );
    });
    out.push('</tbody>\n</table>');
  }
  return out;
}

/** Renders the page for one publication. `ocspUrl` is the responder URL shown to readers. */
export function renderRepositoryPage(pub: VerifiedPublication, opts: { ocspUrl: string }): string {
  const m = pub.manifest;
  const e = escapeHtml;
  const out: string[] = [];
  out.push(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Repository — ${e(m.installation)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
<h1>Repository — ${e(m.installation)}</h1>
<p>Certificates, certificate revocation lists and documents of the Certification Authorities below. Certificate status is also answered by OCSP at <code>${e(opts.ocspUrl)}</code> (RFC 6960, GET and POST).</p>
</header>
<main>
<section aria-labelledby="cas">
<h2 id="cas">Certification Authorities</h2>
<table>
<caption>Root CA certificates (DER; PEM also offered)</caption>
<thead><tr><th scope="col">CA</th><th scope="col">Subject</th><th scope="col">Valid from</th><th scope="col">Valid until</th><th scope="col">SHA-256 fingerprint</th><th scope="col">Status</th><th scope="col">Download</th></tr></thead>
<tbody>`);
  for (const ca of pub.cas.values()) {
    out.push(
      `<tr><th scope="row">${e(ca.name)}</th><td>${e(ca.meta.subject || ca.info.subject)}</td><td>${time(ca.info.notBefore)}</td><td>${time(ca.info.notAfter)}</td>` +
        `<td><code>${fingerprint(ca.info.fingerprint)}</code></td><td>${CA_STATUS[ca.meta.status] ?? e(ca.meta.status)}</td>` +
        `<td><a href="/${e(ca.certificatePath)}" aria-label="${e(ca.name)} certificate, DER">DER</a> · <a href="/certs/${e(ca.name)}.pem" aria-label="${e(ca.name)} certificate, PEM">PEM</a></td></tr>`,
    );
  }
  out.push(`</tbody>
</table>`);
  out.push(...linksSection(pub));
  out.push(`</section>
<section aria-labelledby="crls">
<h2 id="crls">Certificate Revocation Lists</h2>`);
  out.push(...crlsSection(pub));
  out.push(`</section>
<section aria-labelledby="issued">
<h2 id="issued">Issued certificates</h2>`);
  out.push(...issuedSection(pub));
  out.push(`</section>
<section aria-labelledby="docs">
<h2 id="docs">Documents</h2>`);
  out.push(...documentsSection(pub));
  out.push(`</section>
</main>
<footer>
<p>Publication ${m.version} of ${e(m.installation)}, created ${time(m.createdAt)}, signed by ${e(m.signer.ca)}. Files are served exactly as signed; each download's SHA-256 is its ETag.</p>
</footer>
</body>
</html>
`);
  return out.join('\n');
}

/** The current CRL of each CA, and of a re-keyed CA's earlier key (CPS 2.2). */
function crlsSection(pub: VerifiedPublication): string[] {
  const e = escapeHtml;
  const out: string[] = [];
  if (pub.crls.size === 0) out.push('<p class="note">No CRL is published.</p>');
  else {
    out.push(`<table>
<caption>The current CRL of each CA (and of a re-keyed CA's earlier key, for holders of its old root)</caption>
<thead><tr><th scope="col">CA</th><th scope="col">CRL number</th><th scope="col">This update</th><th scope="col">Next update</th><th scope="col">Revoked entries</th><th scope="col">Download</th></tr></thead>
<tbody>`);
    for (const crl of [...pub.crls.values(), ...pub.previousKeyCrls]) {
      const label = crl.previousKey ? `${e(crl.ca)} (earlier key)` : e(crl.ca);
      out.push(
        `<tr><th scope="row">${label}</th><td>${e(crl.meta.crlNumber)}</td><td>${time(crl.meta.thisUpdate)}</td><td>${time(crl.meta.nextUpdate)}</td><td>${crl.parsed.entries.length}</td>` +
          `<td><a href="/${e(crl.path)}" aria-label="CRL of ${e(crl.ca)}">${e(crl.path.split('/').pop()!)}</a></td></tr>`,
      );
    }
    out.push('</tbody>\n</table>');
  }
  return out;
}

/** The certificates each CA issued, with their status from the publication (CPS 2.2). */
function issuedSection(pub: VerifiedPublication): string[] {
  const e = escapeHtml;
  const out: string[] = [];
  for (const [caName, certs] of pub.certificates) {
    out.push(`<h3 id="issued-${e(caName)}">Issued by ${e(caName)}</h3>`);
    if (certs.size === 0) {
      out.push('<p class="note">None published.</p>');
      continue;
    }
    out.push(`<table>
<caption>Certificates issued by ${e(caName)}</caption>
<thead><tr><th scope="col">Serial number</th><th scope="col">Subject</th><th scope="col">Profile</th><th scope="col">Valid until</th><th scope="col">Status</th><th scope="col">Download</th></tr></thead>
<tbody>`);
    for (const c of certs.values()) {
      const status =
        c.meta.status === 'revoked'
          ? `<span class="revoked">Revoked</span> on ${time(c.meta.revokedAt ?? '')}${c.meta.reason ? ` (${e(c.meta.reason)})` : ''}`
          : '<span class="good">Good</span>';
      out.push(
        `<tr><th scope="row"><code>${serialText(c.info.serialHex)}</code></th><td>${e(c.meta.subject || c.info.subject)}</td><td>${e(c.meta.profile)}</td><td>${time(c.info.notAfter)}</td><td>${status}</td>` +
          `<td><a href="/${e(c.path)}">certificate</a></td></tr>`,
      );
    }
    out.push('</tbody>\n</table>');
  }
  return out;
}

/**
 * Link certificates of re-keyed CAs (RFC 4210 4.4; CPS 5.6): with the old root, NewWithOld
 * reaches certificates of the new key; with the new root, OldWithNew reaches those of the old.
 */
function linksSection(pub: VerifiedPublication): string[] {
  if (pub.links.length === 0) return [];
  const e = escapeHtml;
  const what = {
    'old-with-new': 'OldWithNew: the earlier key, certified by the current key (for holders of the new root)',
    'new-with-old': 'NewWithOld: the current key, certified by the earlier key (for holders of the old root)',
  };
  const out = [
    `<table>
<caption>Key changeover link certificates (DER)</caption>
<thead><tr><th scope="col">CA</th><th scope="col">Link</th><th scope="col">Valid from</th><th scope="col">Valid until</th><th scope="col">SHA-256 fingerprint</th><th scope="col">Download</th></tr></thead>
<tbody>`,
  ];
  for (const l of pub.links) {
    out.push(
      `<tr><th scope="row">${e(l.ca)}</th><td>${e(what[l.kind])}</td><td>${time(l.info.notBefore)}</td><td>${time(l.info.notAfter)}</td>` +
        `<td><code>${fingerprint(l.info.fingerprint)}</code></td><td><a href="/${e(l.path)}" aria-label="${e(l.ca)} ${l.kind} link certificate, DER">${e(l.path.split('/').pop()!)}</a></td></tr>`,
    );
  }
  out.push('</tbody>\n</table>');
  return out;
}
