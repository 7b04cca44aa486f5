/**
 * `rootca crl export` and `rootca ocsp export` (issue 14 item 2): a lost or never-written file
 * is written again from the store, never signed again — a new signature would spend a CRL
 * number and a key activation (CPS 6.2.9) for bytes that already exist. The files are
 * written through the same preflight and partial-then-rename steps as every output.
 */
import { CaError } from '../errors.ts';
import { derToPem } from '../pki/pem.ts';
import { planOutputs, publishOutput, stageOutput } from '../util/outputs.ts';
import { getCa } from '../installation/cas.ts';
import { listIssued } from '../issuance/certificates.ts';
import type { Installation } from '../installation/installation.ts';
import { findCrl } from '../store/crls.ts';
import { currentOcspResponses } from './crl-and-ocsp.ts';

export interface ExportedFile {
  path: string;
  sha256: string;
}

/** A stored CRL of the CA (its latest by default), DER or PEM. */
export function exportCrl(
  inst: Installation,
  p: { caName: string; crlNumber?: number; out: string; pem?: boolean },
): ExportedFile & { crlNumber: number } {
  const ca = getCa(inst, p.caName);
  const row = findCrl(inst.db, ca.id, p.crlNumber);
  if (!row)
    throw new CaError(
      'CRL_UNKNOWN',
      p.crlNumber === undefined
        ? `${ca.name} has no CRL yet: rootca crl issue --ca ${ca.name}`
        : `${ca.name} has no CRL #${p.crlNumber}`,
    );
  const [planned] = planOutputs([{ path: p.out, what: '--out' }]);
  const staged = stageOutput(planned!, p.pem ? derToPem(row.der, 'X509 CRL') : row.der);
  publishOutput(staged);
  return { path: staged.path, sha256: staged.sha256, crlNumber: row.crl_number };
}

/**
 * The current pre-signed responses of a CA (one certificate with `serial`), one DER file per
 * certificate and CertID hash, named `<serial>-<hash>.ocsp` in the folder `outDir`.
 */
export function exportOcspResponses(
  inst: Installation,
  p: { caName: string; serial?: string; outDir: string },
): ExportedFile[] {
  const ca = getCa(inst, p.caName);
  const serials = new Map(listIssued(inst, ca.name).map((c) => [c.id, c.serialHex]));
  const wanted = p.serial?.toLowerCase();
  const responses = currentOcspResponses(inst, ca.id).filter(
    (r) => wanted === undefined || serials.get(r.certificateId) === wanted,
  );
  if (!responses.length)
    throw new CaError(
      'OCSP_RESPONSE_UNKNOWN',
      wanted
        ? `no pre-signed OCSP response for ${ca.name} serial ${wanted}`
        : `${ca.name} has no pre-signed OCSP responses: rootca ocsp presign --ca ${ca.name}`,
    );
  const planned = planOutputs(
    responses.map((r) => ({
      path: `${serials.get(r.certificateId)}-${r.hash}.ocsp`,
      what: `the ${r.hash} response for ${serials.get(r.certificateId)}`,
    })),
    { baseDir: p.outDir },
  );
  const staged = planned.map((f, i) => stageOutput(f, responses[i]!.der));
  for (const s of staged) publishOutput(s);
  return staged.map((s) => ({ path: s.path, sha256: s.sha256 }));
}
