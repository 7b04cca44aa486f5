import { NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { ALL_PROFILES, decodeExtension, defineLint, findExtension } from './support.ts';

/**
 * RFC 5280 4.2.1.10: "For IPv4 addresses, the iPAddress field of GeneralName MUST contain eight
 * (8) octets, encoded in the style of RFC 4632 (CIDR) to represent an address range. For IPv6
 * addresses, the iPAddress field MUST contain 32 octets similarly encoded." The asn1 library
 * renders 8 and 32 octets as address/prefix, anything else without the slash.
 */
export const e_name_constraints_ip_address_length = defineLint(
  {
    name: 'e_name_constraints_ip_address_length',
    description: 'Every iPAddress in nameConstraints is an address with its mask: 8 octets (IPv4) or 32 (IPv6).',
    citation:
      'RFC 5280 4.2.1.10: "For IPv4 addresses, the iPAddress field of GeneralName MUST contain eight (8) octets ... For IPv6 addresses, the iPAddress field MUST contain 32 octets similarly encoded."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const ext = findExtension(cert, id_ce_nameConstraints);
    if (!ext) return;
    const nc = decodeExtension(ext, NameConstraints);
    for (const t of [...(nc.permittedSubtrees ?? []), ...(nc.excludedSubtrees ?? [])]) {
      const ip = t.base.iPAddress;
      if (ip !== undefined && !ip.includes('/'))
        report.error(`iPAddress ${ip} in nameConstraints is not an address and mask (8 or 32 octets)`);
    }
  },
);
