/** Read side of the CAs an installation runs. */
import { CaError } from '../errors.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import type { Installation } from './installation.ts';
import { keyCustodians } from '../custody/key-records.ts';

export interface CaSummary {
  id: number;
  name: string;
  keyId: string;
  status: string;
  signatureAlgorithm: SignatureAlgorithmName;
  legacySha1: boolean;
  subject: string;
  serialHex: string;
  notBefore: string;
  notAfter: string;
  certificateSha256: string;
  certificateDer: Buffer;
  threshold: number;
  custodians: string[];
}

interface Row {
  id: number; name: string; key_id: string; status: string; signature_algorithm: SignatureAlgorithmName; legacy_sha1: number;
  subject_text: string; serial_hex: string; not_before: string; not_after: string; sha256: string; der: Buffer; threshold: number;
}

const SELECT = `SELECT c.id, c.name, c.key_id, c.status, c.signature_algorithm, c.legacy_sha1, x.subject_text, x.serial_hex,
  x.not_before, x.not_after, x.sha256, x.der, k.threshold
  FROM cas c JOIN certificates x ON x.id = c.certificate_id JOIN ca_keys k ON k.key_id = c.key_id`;

export function listCas(inst: Installation): CaSummary[] {
  return (inst.db.prepare(`${SELECT} ORDER BY c.name`).all() as Row[]).map((r) => toSummary(inst, r));
}

export function getCa(inst: Installation, name: string): CaSummary {
  const row = inst.db.prepare(`${SELECT} WHERE c.name = ?`).get(name) as Row | undefined;
  if (!row) throw new CaError('CA_UNKNOWN', `no CA named ${name}; known: ${listCas(inst).map((c) => c.name).join(', ') || 'none'}`);
  return toSummary(inst, row);
}

function toSummary(inst: Installation, r: Row): CaSummary {
  return {
    id: r.id, name: r.name, keyId: r.key_id, status: r.status, signatureAlgorithm: r.signature_algorithm, legacySha1: r.legacy_sha1 === 1,
    subject: r.subject_text, serialHex: r.serial_hex, notBefore: r.not_before, notAfter: r.not_after, certificateSha256: r.sha256,
    certificateDer: r.der, threshold: r.threshold, custodians: keyCustodians(inst, r.key_id),
  };
}
