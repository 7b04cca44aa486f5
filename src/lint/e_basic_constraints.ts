import { BasicConstraints, id_ce_basicConstraints } from '@peculiar/asn1-x509';
import { ALL_PROFILES, CA_PROFILES, decodeExtension, defineLint, findExtension } from './support.ts';

/**
 * RFC 5280 4.2.1.9: "Conforming CAs MUST include this extension in all CA certificates that
 * contain public keys used to validate digital signatures on certificates and MUST mark the
 * extension as critical in such certificates."
 * Root and subordinate CA: present, critical, cA TRUE (BR 7.1.2.1.4, R-3.1). TSA, TA and OCSP
 * responder certificates are end entities: the extension is absent or has cA FALSE.
 */
export const e_basic_constraints = defineLint(
  {
    name: 'e_basic_constraints',
    description:
      'basicConstraints is critical with cA TRUE on root and subca certificates, and absent or cA FALSE on tsa, ta and ocsp.',
    citation:
      'RFC 5280 4.2.1.9: "Conforming CAs MUST include this extension in all CA certificates that contain public keys used to validate digital signatures on certificates and MUST mark the extension as critical in such certificates."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const ext = findExtension(cert, id_ce_basicConstraints);
    const bc = ext ? decodeExtension(ext, BasicConstraints) : undefined;
    if (CA_PROFILES.includes(ctx.profile)) {
      if (!ext || !bc) {
        report.error(`basicConstraints is missing from a '${ctx.profile}' CA certificate`);
        return;
      }
      if (!ext.critical) report.error('basicConstraints is not marked critical in a CA certificate');
      if (!bc.cA) report.error(`basicConstraints cA is FALSE in a '${ctx.profile}' CA certificate`);
    } else if (bc?.cA) {
      report.error(`basicConstraints cA is TRUE in a '${ctx.profile}' end-entity certificate`);
    }
  },
);
