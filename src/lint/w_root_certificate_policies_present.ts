import { id_ce_certificatePolicies } from '@peculiar/asn1-x509';
import { defineLint, findExtension } from './support.ts';

/** BR 1.x 7.1.6.2 (BR 2.x 7.1.2.1.2: "NOT RECOMMENDED"): "A Root CA Certificate SHOULD NOT contain the certificatePolicies extension." */
export const w_root_certificate_policies_present = defineLint(
  {
    name: 'w_root_certificate_policies_present',
    description: 'A root certificate carries no certificatePolicies.',
    citation: 'BR 1.x 7.1.6.2: "A Root CA Certificate SHOULD NOT contain the certificatePolicies extension."',
    appliesTo: ['root'],
  },
  (cert, _ctx, report) => {
    if (findExtension(cert, id_ce_certificatePolicies)) report.warning('root certificate carries certificatePolicies');
  },
);
