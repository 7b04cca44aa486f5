/**
 * Linting a CRL in one pass over its entries (issue 17.5): each entry is decoded from the DER,
 * checked to re-encode to its own bytes (RFC 5280 5.1.1.3, e_crl_der_encoding), given to every
 * entry lint, and dropped, so a list of a million entries is never held as objects. An entry of
 * the common shape is not decoded at all: readRawEntry reads it from its bytes (DER by how it
 * is read) and each lint's `clean` passes it, or else the lint is given it decoded. The rest of
 * the CRL is re-encoded once around the list bytes and compared with the input.
 *
 * Only a CRL that is DER throughout is linted so: for anything irregular (undecodable, an
 * entry or field that re-encodes differently, trailing bytes) this returns undefined and the
 * caller lints the whole parsed CRL, whose findings say exactly what is wrong. The findings
 * are those `run` gives on the parsed CRL, lint by lint in the same order.
 */
import { decodeCrlHead } from '../../pki/crl.ts';
import type { RevokedCertificate } from '@peculiar/asn1-x509';
import {
  decodeRevokedCertificate,
  encodeCertificateListAround,
  encodeRevokedCertificate,
  tlv,
} from '../../pki/crl-entries.ts';
import { type RawEntry, rawEntry, readRawEntry } from '../../pki/crl-raw-entry.ts';
import { readDerElement } from '../../pki/pem.ts';
import { markReencodedAlike } from './e_crl_der_encoding.ts';
import { findingsReporter } from './support.ts';
import type { CrlLint, CrlLintContext, EntryCheck, LintFinding } from './types.ts';

interface Running {
  lint: CrlLint;
  findings: LintFinding[];
  each?: EntryCheck;
}

/** A lint that throws becomes one error finding of that lint, as lintParsedCrl reports it. */
function couldNotEvaluate(lint: CrlLint, e: unknown): LintFinding[] {
  return [
    {
      lint: lint.name,
      severity: 'error',
      message: `the lint could not evaluate the CRL: ${e instanceof Error ? e.message : String(e)}`,
      citation: lint.citation,
    },
  ];
}

/** Every lint's findings for a CRL that is DER throughout, or undefined for the whole-CRL path. */
export function lintCrlStreamed(crlDer: Uint8Array, ctx: CrlLintContext, lints: CrlLint[]): LintFinding[] | undefined {
  let head: ReturnType<typeof decodeCrlHead>;
  try {
    head = decodeCrlHead(crlDer);
  } catch {
    return undefined;
  }
  const { crl, buf, list } = head;
  const revoked = list ? tlv(0x30, buf.subarray(list.contentStart, list.end)) : undefined;
  if (!encodeCertificateListAround(crl, revoked).equals(buf)) return undefined;
  markReencodedAlike(crl); // the entries are checked one by one below; e_crl_der_encoding need not encode them again
  const running: Running[] = lints.map((lint) => ({ lint, findings: [] }));
  for (const r of running) {
    try {
      r.each = r.lint.begin(crl, ctx, findingsReporter(r.lint, r.findings));
    } catch (e) {
      r.findings = couldNotEvaluate(r.lint, e);
    }
  }
  const active = running.filter((r) => r.each);
  if (list) {
    const bounded = buf.subarray(0, list.end);
    const raw = rawEntry(buf);
    for (let at = list.contentStart; at < list.end; ) {
      // The common entry is read from its bytes, DER by construction (readRawEntry), and given
      // to each lint's `clean`; it is decoded only for a lint without one or that finds something.
      if (readRawEntry(buf, at, list.end, raw)) {
        at = raw.end;
        let entry: ReturnType<typeof decodeRevokedCertificate> | undefined;
        for (const r of active) {
          if (!r.each || isClean(r.each, raw)) continue;
          if (!entry) {
            try {
              entry = decodeRevokedCertificate(buf, readDerElement(bounded, raw.start));
            } catch {
              return undefined;
            }
          }
          check(r, entry);
        }
        continue;
      }
      let el: ReturnType<typeof readDerElement>;
      let entry: ReturnType<typeof decodeRevokedCertificate>;
      try {
        el = readDerElement(bounded, at);
        entry = decodeRevokedCertificate(buf, el);
      } catch {
        return undefined;
      }
      at = el.end;
      const again = encodeRevokedCertificate(entry);
      if (buf.compare(again, 0, again.length, el.start, el.end) !== 0) return undefined;
      for (const r of active) if (r.each) check(r, entry);
    }
  }
  return running.flatMap((r) => r.findings);
}

/** Gives one decoded entry to a lint's entry check; a check that throws ends that lint with one finding. */
function check(r: Running, entry: RevokedCertificate): void {
  try {
    r.each!(entry);
  } catch (e) {
    r.findings = couldNotEvaluate(r.lint, e);
    r.each = undefined;
  }
}

/** True when the check's `clean` passes the entry; a check without one, or a `clean` that throws, is given the entry. */
function isClean(each: EntryCheck, raw: RawEntry): boolean {
  if (!each.clean) return false;
  try {
    return each.clean(raw);
  } catch {
    return false;
  }
}
