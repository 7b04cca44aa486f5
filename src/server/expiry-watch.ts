/**
 * What runs out on the online side, and when (issue 16 item 3), per issuer of the publication
 * served: the earliest CRL nextUpdate, the pre-signed OCSP responses' nextUpdates, and the
 * responder certificates' notAfter — the live delegated responder's (`--responder-cert`) and
 * those in the publication (profile `ocsp`, not revoked). /metrics exports the seconds left
 * (metrics.ts `rootca_*_remaining_seconds`); /healthz turns degraded once one of them is within
 * the status margin (`serve --status-margin`), before it runs out, not after.
 *
 * Why a margin: an offline root re-signs only in a quorum ceremony (CPS 5.2.2, 6.2.2), which
 * takes days to gather; BR 4.9.7 / 4.9.10 let nothing of it lapse.
 */
import { isIssuedBy } from '../pki/certificate-info.ts';
import type { VerifiedPublication } from '../publish/verify.ts';
import type { ResponderKey } from './responders.ts';

/** The status margin `rootca serve` uses when none is given: 14 days. */
export const DEFAULT_STATUS_MARGIN_SECONDS = 14 * 86_400;

/** One responder certificate and when it expires. */
export interface ResponderExpiry {
  issuer: string;
  serialHex: string;
  subject: string;
  notAfter: Date;
  /** `live`: configured to sign answers in this server; `published`: in the publication served. */
  role: 'live' | 'published';
}

/** What runs out for one issuer. */
export interface IssuerExpiry {
  issuer: string;
  /** The issuer's CRL (current or by an earlier key) with the earliest nextUpdate. */
  crl?: { path: string; nextUpdate: Date };
  /** nextUpdate of every pre-signed response, in ms, ascending. */
  ocspNextUpdates: number[];
}

/** Every date of one publication (and the configured responders) that runs out. */
export interface ExpiryDates {
  issuers: IssuerExpiry[];
  responders: ResponderExpiry[];
}

/** The dates of `pub`, with the configured responder keys bound to the CA that issued them. */
function datesOf(pub: VerifiedPublication, keys: ResponderKey[]): ExpiryDates {
  const issuers = new Map<string, IssuerExpiry>();
  for (const name of pub.cas.keys()) issuers.set(name, { issuer: name, ocspNextUpdates: [] });
  for (const crl of [...pub.crls.values(), ...pub.previousKeyCrls]) {
    const e = issuers.get(crl.ca);
    const next = crl.parsed.nextUpdate;
    if (e && next && (!e.crl || next < e.crl.nextUpdate)) e.crl = { path: crl.path, nextUpdate: next };
  }
  for (const r of pub.index.values()) issuers.get(r.ca)?.ocspNextUpdates.push(r.nextUpdate.getTime());
  for (const e of issuers.values()) e.ocspNextUpdates.sort((a, b) => a - b);
  const responders: ResponderExpiry[] = [];
  for (const k of keys) {
    const ca = [...pub.cas.values()].find((c) => isIssuedBy(k.cert, c.info));
    if (ca) responders.push(responderExpiry(ca.name, k.cert, 'live'));
  }
  for (const [ca, certs] of pub.certificates) {
    for (const c of certs.values()) {
      if (c.meta.profile === 'ocsp' && c.meta.status !== 'revoked')
        responders.push(responderExpiry(ca, c.info, 'published'));
    }
  }
  return { issuers: [...issuers.values()], responders };
}

function responderExpiry(
  issuer: string,
  cert: { serialHex: string; subject: string; notAfter: Date },
  role: ResponderExpiry['role'],
): ResponderExpiry {
  return { issuer, serialHex: cert.serialHex, subject: cert.subject, notAfter: cert.notAfter, role };
}

/** How many of the ascending `sorted` are at or before `t` (binary search). */
function countUpTo(sorted: number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A margin for messages: whole days, else hours, else seconds. */
export function formatMargin(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${seconds}s`;
}

/** The dates of the publication served, worked out once per publication. */
export class ExpiryWatch {
  private readonly dates = new WeakMap<VerifiedPublication, ExpiryDates>();

  /** `keys`: the configured delegated responders; `marginSeconds`: how early /healthz warns. */
  constructor(
    private readonly keys: ResponderKey[],
    readonly marginSeconds: number,
  ) {}

  /** The dates of `pub`. */
  of(pub: VerifiedPublication): ExpiryDates {
    let d = this.dates.get(pub);
    if (!d) {
      d = datesOf(pub, this.keys);
      this.dates.set(pub, d);
    }
    return d;
  }

  /**
   * Why service is degraded at `now` by what runs out: past it, or within the margin.
   * `signsLive(issuer)`: a live delegated responder answers for it (stale pre-signed responses
   * are then replaced by fresh ones rather than answered tryLater).
   */
  problems(pub: VerifiedPublication, now: Date, signsLive: (issuer: string) => boolean): string[] {
    const out: string[] = [];
    const t = now.getTime();
    const soon = t + this.marginSeconds * 1000;
    const margin = `the status margin (${formatMargin(this.marginSeconds)})`;
    const d = this.of(pub);
    for (const e of d.issuers) {
      if (e.crl && e.crl.nextUpdate.getTime() < t)
        out.push(`CRL ${e.crl.path} is past its nextUpdate ${e.crl.nextUpdate.toISOString()}`);
      else if (e.crl && e.crl.nextUpdate.getTime() <= soon)
        out.push(`CRL ${e.crl.path} reaches its nextUpdate ${e.crl.nextUpdate.toISOString()} within ${margin}`);
      const first = e.ocspNextUpdates[0];
      if (first === undefined || first > soon) continue;
      const earliest = new Date(first).toISOString();
      // A response exactly at its nextUpdate is still served (ocsp-responder.ts: past means later).
      const past = countUpTo(e.ocspNextUpdates, t - 1);
      if (past > 0) {
        const how = signsLive(e.issuer)
          ? 'answered live by the delegated responder'
          : 'answered tryLater: no live delegated responder';
        out.push(
          `${past} pre-signed OCSP response(s) of ${e.issuer} are past their nextUpdate (earliest ${earliest}); ${how}`,
        );
      } else {
        const n = countUpTo(e.ocspNextUpdates, soon);
        out.push(
          `${n} pre-signed OCSP response(s) of ${e.issuer} reach their nextUpdate within ${margin} (earliest ${earliest})`,
        );
      }
    }
    for (const r of d.responders) {
      if (r.role !== 'live') continue;
      const at = r.notAfter.toISOString();
      if (r.notAfter.getTime() < t) out.push(`delegated responder ${r.subject} (${r.issuer}) expired ${at}`);
      else if (r.notAfter.getTime() <= soon)
        out.push(`delegated responder ${r.subject} (${r.issuer}) expires ${at}, within ${margin}`);
    }
    return out;
  }
}
