/** The sub-CA request the tests issue by default: a TLS sub-CA with the reserved OV policy (Mozilla 5.3, BR 7.1.2.10.5). */
import type { ProfileOptions } from '../src/pki/profiles.ts';

/** purpose tls-server (EKU serverAuth) and the CA/B Forum reserved policy 2.23.140.1.2.2 (OV). */
export const TLS_SUBCA: ProfileOptions & { extraPolicyOids: string[] } = {
  purpose: 'tls-server',
  extraPolicyOids: ['2.23.140.1.2.2'],
};
