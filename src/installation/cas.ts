/** Read side of the CAs an installation runs. */
import { CaError } from '../errors.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import type { Installation } from './installation.ts';
import { keyCustodians } from '../custody/key-records.ts';
import { findCaSummaryRow, listCaSummaryRows, type CaSummaryRow } from '../store/cas.ts';

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

export function listCas(inst: Installation): CaSummary[] {
  return listCaSummaryRows(inst.db).map((r) => toSummary(inst, r));
}

export function getCa(inst: Installation, name: string): CaSummary {
  const row = findCaSummaryRow(inst.db, name);
  if (!row)
    throw new CaError(
      'CA_UNKNOWN',
      `no CA named ${name}; known: ${
        listCas(inst)
          .map((c) => c.name)
          .join(', ') || 'none'
      }`,
    );
  return toSummary(inst, row);
}

function toSummary(inst: Installation, r: CaSummaryRow): CaSummary {
  return {
    id: r.id,
    name: r.name,
    keyId: r.key_id,
    status: r.status,
    signatureAlgorithm: r.signature_algorithm as SignatureAlgorithmName,
    legacySha1: r.legacy_sha1 === 1,
    subject: r.subject_text,
    serialHex: r.serial_hex,
    notBefore: r.not_before,
    notAfter: r.not_after,
    certificateSha256: r.sha256,
    certificateDer: r.der,
    threshold: r.threshold,
    custodians: keyCustodians(inst, r.key_id),
  };
}
