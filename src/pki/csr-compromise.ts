/**
 * The statement a key-compromise proof carries (issue 15.7; CPS 4.9.1, BR 4.9.12): a CSR signed
 * with the compromised key proves possession only if it was made for this report, so it must
 * say `compromise SERIAL TIME` — the certificate's serial (hex) and the time it was made
 * (ISO 8601 UTC, whole seconds) — in its challengePassword attribute or its subject CN. The
 * subscriber's original CSR says neither. Pure.
 */
import { pkcs_9_at_challengePassword, type CsrInspection } from './csr.ts';
import { normalizeSerialHex } from './integer.ts';
import { readDerElement } from './pem.ts';

/** The statement's form; the CN holds it too (11 + 32 + 1 + 20 = 64 characters for a 16-octet serial). */
export const COMPROMISE_STATEMENT = /^compromise ([0-9A-Fa-f:]+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/;

/** What a proof says it is for. */
export interface CompromiseStatement {
  serialHex: string;
  at: Date;
  where: 'challengePassword' | 'CN';
  text: string;
}

/** The text of a DirectoryString value (UTF8String, PrintableString or IA5String), else undefined. */
function directoryText(der: Buffer): string | undefined {
  try {
    const el = readDerElement(der, 0);
    if (![0x0c, 0x13, 0x16].includes(el.tag)) return undefined;
    return new TextDecoder('utf-8', { fatal: true }).decode(der.subarray(el.contentStart, el.end));
  } catch {
    return undefined;
  }
}

/** The text a statement is written in: `compromise SERIAL TIME`. */
export function compromiseStatementText(serialHex: string, at: Date): string {
  return `compromise ${normalizeSerialHex(serialHex)} ${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}

/** The statement a proof CSR carries (challengePassword first, then CN), or undefined. */
export function compromiseStatementOf(i: CsrInspection): CompromiseStatement | undefined {
  const candidates: { where: CompromiseStatement['where']; text: string | undefined }[] = [
    ...i.requested.otherAttributes
      .filter((a) => a.type === pkcs_9_at_challengePassword)
      .flatMap((a) => a.values.map((v) => ({ where: 'challengePassword' as const, text: directoryText(v) }))),
    ...i.requested.subject
      .flatMap((rdn) => rdn.filter((atv) => atv.type === '2.5.4.3'))
      .map((atv) => ({ where: 'CN' as const, text: atv.value.toString() })),
  ];
  for (const c of candidates) {
    const m = c.text === undefined ? null : COMPROMISE_STATEMENT.exec(c.text);
    if (!m) continue;
    const at = new Date(m[2]!);
    if (Number.isNaN(at.getTime())) continue;
    try {
      return { serialHex: normalizeSerialHex(m[1]!), at, where: c.where, text: c.text! };
    } catch {}
  }
  return undefined;
}
