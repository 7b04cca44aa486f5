/**
 * Lint rows for the sub-CA purpose rules (issue 15 item 4): the EKU and reserved-policy lints and
 * the technically-constrained name constraints, on mutations of the good TLS sub-CA fixture.
 */
import {
  CertificatePolicies,
  ExtendedKeyUsage,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  NameConstraints,
  PolicyInformation,
  id_ce_certificatePolicies,
  id_ce_extKeyUsage,
  id_ce_nameConstraints,
  id_kp_clientAuth,
  id_kp_codeSigning,
  id_kp_emailProtection,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import type { Certificate } from '@peculiar/asn1-x509';
import type { LintContext, ProfileName } from '../../src/lint/index.ts';
import { buildNameConstraints } from '../../src/pki/name-constraints.ts';
import { SUBCA_CP, mutate, removeExtension, setExtension, type Fixtures, type Issued } from './fixtures.ts';

interface Row {
  lint: string;
  title: string;
  profile: ProfileName;
  cert: () => Uint8Array | Issued;
  ctx?: () => Partial<LintContext>;
  expect: 'pass' | 'error' | 'warning';
}

const policies = (...oids: string[]) =>
  new CertificatePolicies(oids.map((policyIdentifier) => new PolicyInformation({ policyIdentifier })));
const eku = (...oids: string[]) => new ExtendedKeyUsage(oids);
const smime = (c: Certificate) => {
  setExtension(c, id_ce_extKeyUsage, eku(id_kp_emailProtection));
  setExtension(c, id_ce_certificatePolicies, policies('2.23.140.1.5.2.2', SUBCA_CP));
};
const constrained = (nc: NameConstraints | undefined) => (c: Certificate) =>
  setExtension(c, id_ce_nameConstraints, nc!, true);

/** The rows, reading the fixtures when each runs. */
export function subcaPurposeCases(fx: () => Fixtures): Row[] {
  const sub = (edit: (c: Certificate) => void) => () => mutate(fx().subca, edit);
  const row = (lint: string, title: string, cert: Row['cert'], expect: Row['expect'], ctx?: Row['ctx']): Row => ({
    lint,
    title,
    profile: 'subca',
    cert,
    expect,
    ...(ctx ? { ctx } : {}),
  });
  const tcsc = (r: Parameters<typeof buildNameConstraints>[0]) => constrained(buildNameConstraints(r, true));
  return [
    row('e_subca_eku_missing', 'TLS sub-CA with serverAuth, clientAuth', () => fx().subca, 'pass'),
    row('e_subca_eku_missing', 'sub-CA without extKeyUsage', sub((c) => removeExtension(c, id_ce_extKeyUsage)), 'error'),
    row(
      'e_subca_eku_missing',
      'cross-certificate of a root without extKeyUsage (Mozilla 5.3 exception)',
      sub((c) => removeExtension(c, id_ce_extKeyUsage)),
      'pass',
      () => ({ crossCertificate: 'restricted' }),
    ),
    row('e_subca_eku_server_and_email', 'serverAuth alone', () => fx().subca, 'pass'),
    row(
      'e_subca_eku_server_and_email',
      'serverAuth with emailProtection',
      sub((c) => setExtension(c, id_ce_extKeyUsage, eku(id_kp_serverAuth, id_kp_emailProtection))),
      'error',
    ),
    row('e_subca_tls_eku_forbidden', 'serverAuth with clientAuth', () => fx().subca, 'pass'),
    row(
      'e_subca_tls_eku_forbidden',
      'serverAuth with codeSigning',
      sub((c) => setExtension(c, id_ce_extKeyUsage, eku(id_kp_serverAuth, id_kp_codeSigning))),
      'error',
    ),
    row('e_subca_tls_policy_reserved_missing', 'TLS sub-CA with 2.23.140.1.2.2', () => fx().subca, 'pass'),
    row(
      'e_subca_tls_policy_reserved_missing',
      'TLS sub-CA with its CP only',
      sub((c) => setExtension(c, id_ce_certificatePolicies, policies(SUBCA_CP))),
      'error',
    ),
    row(
      'e_subca_tls_policy_reserved_missing',
      'TLS sub-CA with two reserved policies',
      sub((c) => setExtension(c, id_ce_certificatePolicies, policies('2.23.140.1.2.1', '2.23.140.1.2.2', SUBCA_CP))),
      'error',
    ),
    row('e_subca_smime_policy_reserved_missing', 'S/MIME sub-CA with 2.23.140.1.5.2.2', sub(smime), 'pass'),
    row(
      'e_subca_smime_policy_reserved_missing',
      'S/MIME sub-CA with its CP only',
      sub((c) => {
        smime(c);
        setExtension(c, id_ce_certificatePolicies, policies(SUBCA_CP));
      }),
      'error',
    ),
    row(
      'e_subca_tls_name_constraints_incomplete',
      'TLS sub-CA constrained to a DNS subtree and a directoryName, IPs excluded',
      sub(tcsc({ permittedDnsNames: ['example.jp'], permittedDirectoryNames: ['C=JP, O=Example Trust Co.'] })),
      'pass',
    ),
    row(
      'e_subca_tls_name_constraints_incomplete',
      'TLS sub-CA constrained to a DNS subtree only',
      sub(constrained(buildNameConstraints({ permittedDnsNames: ['example.jp'] }, false))),
      'error',
    ),
    row(
      'e_name_constraints_ip_address_length',
      'IPv4 and IPv6 ranges with masks',
      sub(
        tcsc({
          permittedIpRanges: ['192.0.2.0/24', '2001:db8::/32'],
          permittedDirectoryNames: ['C=JP, O=Example Trust Co.'],
        }),
      ),
      'pass',
    ),
    row(
      'e_name_constraints_ip_address_length',
      'an iPAddress of 4 octets (no mask)',
      sub((c) =>
        setExtension(
          c,
          id_ce_nameConstraints,
          new NameConstraints({
            permittedSubtrees: new GeneralSubtrees([
              new GeneralSubtree({ base: new GeneralName({ iPAddress: '192.0.2.1' }) }),
            ]),
          }),
          true,
        ),
      ),
      'error',
    ),
    row('e_subca_eku_missing', 'clientAuth-only sub-CA (other purpose)', sub((c) => setExtension(c, id_ce_extKeyUsage, eku(id_kp_clientAuth))), 'pass'),
  ];
}
