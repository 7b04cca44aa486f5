import { signatureAlgorithmByOid } from '../pki/algorithms.ts';
import { ALL_PROFILES, defineLint } from './support.ts';

/**
 * "new certificate issuance with SHA-1 is refused unless an explicit, audited legacy
 * override is given." BR 7.1.3.2.1 allows RSASSA-PKCS1-v1_5 with SHA-1 only within OCSP
 * responses and CRLs. With ctx.allowLegacySha1 (the audited override) a SHA-1 signature is a
 * warning; without it, an error.
 */
export const e_sha1_signature = defineLint(
  {
    name: 'e_sha1_signature',
    description: 'The certificate is not signed with SHA-1 unless the R-1.3 legacy override is given.',
    citation:
      'R-1.3: "new certificate issuance with SHA-1 is refused unless an explicit, audited legacy override is given."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const oids = new Set([cert.signatureAlgorithm.algorithm, cert.tbsCertificate.signature.algorithm]);
    for (const oid of oids) {
      const info = signatureAlgorithmByOid(oid);
      if (info?.hash !== 'sha1') continue;
      if (ctx.allowLegacySha1) report.warning(`signed with ${info.name}, accepted under the R-1.3 legacy override`);
      else report.error(`signed with ${info.name}; SHA-1 needs the explicit, audited R-1.3 legacy override`);
    }
  },
);
