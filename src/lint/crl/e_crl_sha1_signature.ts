import { signatureAlgorithmByOid } from '../../pki/algorithms.ts';
import { defineCrlLint } from './support.ts';

/**
 * "RootCA1 exists and can sign CRLs/OCSP for what it issued" with SHA-1, under the
 * explicit, audited legacy override. With ctx.allowLegacySha1 a SHA-1 CRL is a warning;
 * without it, an error.
 */
export const e_crl_sha1_signature = defineCrlLint(
  {
    name: 'e_crl_sha1_signature',
    description: 'The CRL is not signed with SHA-1 unless the R-1.3 legacy override is given.',
    citation: 'R-1.3: "SHA-1 is legacy: RootCA1 exists and can sign CRLs/OCSP for what it issued"',
  },
  (crl, ctx, report) => {
    const oids = new Set([crl.signatureAlgorithm.algorithm, crl.tbsCertList.signature.algorithm]);
    for (const oid of oids) {
      const info = signatureAlgorithmByOid(oid);
      if (info?.hash !== 'sha1') continue;
      if (ctx.allowLegacySha1) report.warning(`signed with ${info.name}, accepted under the R-1.3 legacy override`);
      else report.error(`signed with ${info.name}; SHA-1 needs the explicit, audited R-1.3 legacy override`);
    }
  },
);
