import { id_ce_extKeyUsage } from '@peculiar/asn1-x509';
import { defineLint, findExtension } from './support.ts';

/** BR 7.1.2.1.2 Root CA Extensions: "| `extKeyUsage` | MUST NOT | N | - |" */
export const e_root_ext_key_usage_present = defineLint(
  {
    name: 'e_root_ext_key_usage_present',
    description: 'A root certificate carries no extKeyUsage.',
    citation: 'BR 7.1.2.1.2: "| `extKeyUsage` | MUST NOT | N | - |"',
    appliesTo: ['root'],
  },
  (cert, _ctx, report) => {
    if (findExtension(cert, id_ce_extKeyUsage)) report.error('root certificate carries extKeyUsage');
  },
);
