import { type GeneralName, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { decodeExtension, defineLint, findExtension } from './support.ts';
import { KP_SERVER_AUTH, ekuOf } from './subca-eku.ts';

const ipv6 = (ip: string) => ip.includes(':');

/**
 * BR 7.1.2.5.2: a technically constrained TLS sub-CA permits a directoryName, and permits or
 * wholly excludes each of dNSName, IPv4 and IPv6 ("If no dNSName instance is present in the
 * permittedSubtrees, then the CA MUST include a zero-length dNSName"; "an iPAddress of 8 zero
 * octets"; "an iPAddress of 32 zero octets").
 * Cited: BR 7.1.2.5.2: "If no IPv4 iPAddress is present in the permittedSubtrees, the CA MUST include an iPAddress of 8 zero octets, indicating the IPv4 range of 0.0.0.0/0 being excluded."
 */
export const e_subca_tls_name_constraints_incomplete = defineLint(
  {
    name: 'e_subca_tls_name_constraints_incomplete',
    description:
      'A name-constrained TLS sub-CA permits a directoryName and permits or wholly excludes dNSName, IPv4 and IPv6.',
    citation:
      'BR 7.1.2.5.2: "If no IPv4 iPAddress is present in the permittedSubtrees, the CA MUST include an iPAddress of 8 zero octets, indicating the IPv4 range of 0.0.0.0/0 being excluded."',
    appliesTo: ['subca'],
  },
  (cert, _ctx, report) => {
    const ext = findExtension(cert, id_ce_nameConstraints);
    if (!ext || !(ekuOf(cert) ?? []).includes(KP_SERVER_AUTH)) return;
    const nc = decodeExtension(ext, NameConstraints);
    const permitted: GeneralName[] = (nc.permittedSubtrees ?? []).map((t) => t.base);
    const excluded: GeneralName[] = (nc.excludedSubtrees ?? []).map((t) => t.base);
    if (!permitted.some((n) => n.directoryName)) report.error('permittedSubtrees holds no directoryName');
    if (!permitted.some((n) => n.dNSName !== undefined) && !excluded.some((n) => n.dNSName === ''))
      report.error('no dNSName is permitted and the zero-length dNSName is not excluded');
    const ips = permitted.flatMap((n) => (n.iPAddress ? [n.iPAddress] : []));
    if (!ips.some((ip) => !ipv6(ip)) && !excluded.some((n) => n.iPAddress === '0.0.0.0/0'))
      report.error('no IPv4 range is permitted and 0.0.0.0/0 (8 zero octets) is not excluded');
    if (!ips.some(ipv6) && !excluded.some((n) => n.iPAddress === '::/0'))
      report.error('no IPv6 range is permitted and ::/0 (32 zero octets) is not excluded');
  },
);
