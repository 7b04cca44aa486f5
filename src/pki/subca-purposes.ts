/**
 * What a subordinate CA is for, and what that fixes in its certificate (issue 15 item 4): the
 * extended key usages and the CA/Browser Forum reserved policy identifiers each root program
 * requires. A request for a combination the rules forbid is refused naming the rule.
 */
import { anyExtendedKeyUsage, id_kp_OCSPSigning, id_kp_timeStamping } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';

/** The purposes a subordinate CA may be issued for. */
export const SUBCA_PURPOSES = [
  'tls-server',
  'smime',
  'code-signing',
  'time-stamping',
  'document-signing',
  'other',
] as const;
export type SubcaPurpose = (typeof SUBCA_PURPOSES)[number];

/** RFC 5280 4.2.1.12 key purposes, and RFC 9336 id-kp-documentSigning. */
export const KP = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: id_kp_timeStamping,
  OCSPSigning: id_kp_OCSPSigning,
  documentSigning: '1.3.6.1.5.5.7.3.36',
  anyExtendedKeyUsage,
  /** RFC 6962 3.1 Precertificate Signing Certificate. */
  precertificateSigning: '1.3.6.1.4.1.11129.2.4.4',
} as const;

/** Reserved policy identifiers by family (BR 7.1.6.1, S/MIME BR 7.1.6.1, CS BR 7.1.6.1). */
export const RESERVED_POLICIES = {
  /** BR 7.1.6.1: DV, OV, IV; EV Guidelines 9.3.2: EV. */
  tls: ['2.23.140.1.2.1', '2.23.140.1.2.2', '2.23.140.1.2.3', '2.23.140.1.1'],
  /** S/MIME BR 7.1.6.1: mailbox, organization, sponsor, individual x legacy, multipurpose, strict. */
  smime: ['1', '2', '3', '4'].flatMap((g) => ['1', '2', '3'].map((v) => `2.23.140.1.5.${g}.${v}`)),
  /** CS BR 7.1.6.1: EV code signing, non-EV code signing. */
  codeSigning: ['2.23.140.1.3', '2.23.140.1.4.1'],
  /** CS BR 7.1.6.1: time-stamping. */
  timeStamping: ['2.23.140.1.4.2'],
} as const;

interface PurposeRule {
  /** Key purposes the purpose puts in the certificate. */
  eku: string[];
  /** Key purposes a request may add. */
  mayAdd: string[];
  /** Key purposes never allowed with this purpose, each with the rule that forbids it. */
  forbidden: Record<string, string>;
  /** The reserved policy family: exactly one of these is asserted when `required`. */
  reserved: readonly string[];
  reservedRequired: boolean;
  /** The rule the reserved policy follows. */
  policyRule: string;
}

const MOZILLA_5_3 =
  'Mozilla Root Store Policy 5.3: intermediate certificates "MUST NOT include the anyExtendedKeyUsage KeyPurposeId; and, MUST NOT include both the id-kp-serverAuth and id-kp-emailProtection KeyPurposeIds in the same certificate"';
const BR_EKU = 'BR 7.1.2.10.6: in a TLS CA certificate this key purpose "MUST NOT" be present';
const SMIME_EKU =
  'S/MIME BR 7.1.2.2(g): "The values id-kp-serverAuth, id-kp-codeSigning, id-kp-timeStamping, and anyExtendedKeyUsage values SHALL NOT be present"';
const CS_EKU = 'CS BR 7.1.2.2(g): a code-signing CA certificate carries id-kp-codeSigning and no TLS or e-mail purpose';

const forbid = (rule: string, ...oids: string[]) => Object.fromEntries(oids.map((o) => [o, rule]));

const RULES: Record<SubcaPurpose, PurposeRule> = {
  'tls-server': {
    eku: [KP.serverAuth],
    mayAdd: [KP.clientAuth],
    forbidden: forbid(
      BR_EKU,
      KP.emailProtection,
      KP.codeSigning,
      KP.timeStamping,
      KP.OCSPSigning,
      KP.precertificateSigning,
    ),
    reserved: RESERVED_POLICIES.tls,
    reservedRequired: true,
    policyRule:
      'BR 7.1.2.10.5: "the Certificate Policies extension MUST contain exactly one Reserved Certificate Policy Identifier"',
  },
  smime: {
    eku: [KP.emailProtection],
    mayAdd: [KP.clientAuth, KP.documentSigning],
    forbidden: forbid(SMIME_EKU, KP.serverAuth, KP.codeSigning, KP.timeStamping),
    reserved: RESERVED_POLICIES.smime,
    reservedRequired: true,
    policyRule:
      'S/MIME BR 7.1.2.2(a): a Subordinate CA that is not an Affiliate asserts "one or more of the Reserved Certificate Policy Identifiers"',
  },
  'code-signing': {
    eku: [KP.codeSigning],
    mayAdd: [],
    forbidden: forbid(CS_EKU, KP.serverAuth, KP.emailProtection, KP.OCSPSigning),
    reserved: RESERVED_POLICIES.codeSigning,
    reservedRequired: true,
    policyRule: 'CS BR 7.1.2.2(a): a code-signing Subordinate CA asserts a CA/Browser Forum reserved policy identifier',
  },
  'time-stamping': {
    eku: [KP.timeStamping],
    mayAdd: [],
    forbidden: forbid(CS_EKU, KP.serverAuth, KP.emailProtection, KP.codeSigning),
    reserved: RESERVED_POLICIES.timeStamping,
    reservedRequired: false,
    policyRule: 'CS BR 7.1.6.1: 2.23.140.1.4.2 is the reserved time-stamping policy',
  },
  'document-signing': {
    eku: [KP.documentSigning],
    mayAdd: [KP.emailProtection, KP.clientAuth],
    forbidden: forbid(MOZILLA_5_3, KP.serverAuth),
    reserved: [],
    reservedRequired: false,
    policyRule: 'RFC 9336 3: id-kp-documentSigning',
  },
  other: {
    eku: [],
    mayAdd: [KP.clientAuth, KP.codeSigning, KP.emailProtection, KP.timeStamping, KP.documentSigning],
    forbidden: {},
    reserved: [],
    reservedRequired: false,
    policyRule: 'Mozilla Root Store Policy 5.3: every intermediate certificate "MUST contain an EKU extension"',
  },
};

/** True for a known purpose name. */
export function isSubcaPurpose(x: unknown): x is SubcaPurpose {
  return typeof x === 'string' && (SUBCA_PURPOSES as readonly string[]).includes(x);
}

/** What a purpose puts in the certificate: the key purposes and the reserved policies (first, as BR 7.1.2.10.5 recommends). */
export interface ResolvedPurpose {
  purpose: SubcaPurpose;
  eku: string[];
  reservedPolicies: string[];
}

const isReserved = (oid: string) => oid.startsWith('2.23.140.1.');

/**
 * The EKU and reserved policy OIDs for a sub-CA of `purpose`, from what the request adds
 * (`requestedEku`) and the policies it asks for (`requestedPolicies`); every forbidden
 * combination is refused with its rule.
 */
export function resolveSubcaPurpose(
  purpose: string | undefined,
  requestedEku: string[] = [],
  requestedPolicies: string[] = [],
): ResolvedPurpose {
  if (purpose === undefined)
    throw new CaError(
      'PURPOSE_REQUIRED',
      `a subordinate CA certificate names its purpose (${SUBCA_PURPOSES.join(', ')}): it fixes the extendedKeyUsage Mozilla Root Store Policy 5.3 requires in every intermediate and the reserved policy BR 7.1.2.10.5 requires`,
    );
  if (!isSubcaPurpose(purpose))
    throw new CaError('PURPOSE_UNKNOWN', `purpose "${purpose}" is not one of ${SUBCA_PURPOSES.join(', ')}`);
  const rule = RULES[purpose];
  const eku = [...rule.eku];
  for (const oid of requestedEku) {
    if (oid === KP.anyExtendedKeyUsage) throw ekuRefused(purpose, oid, MOZILLA_5_3);
    if (rule.forbidden[oid]) throw ekuRefused(purpose, oid, rule.forbidden[oid]);
    if (!rule.mayAdd.includes(oid) && !rule.eku.includes(oid) && purpose !== 'other')
      throw ekuRefused(purpose, oid, `the ${purpose} purpose takes only ${[...rule.eku, ...rule.mayAdd].join(', ')}`);
    if (!eku.includes(oid)) eku.push(oid);
  }
  if (eku.includes(KP.serverAuth) && eku.includes(KP.emailProtection))
    throw ekuRefused(purpose, KP.emailProtection, MOZILLA_5_3);
  if (eku.length === 0)
    throw new CaError(
      'PURPOSE_EKU_REFUSED',
      `the other purpose needs at least one --eku (${MOZILLA_5_3.split(':')[0]}: every intermediate "MUST contain an EKU extension")`,
    );
  return { purpose, eku, reservedPolicies: reservedFor(purpose, rule, requestedPolicies) };
}

function ekuRefused(purpose: string, oid: string, rule: string): CaError {
  return new CaError('PURPOSE_EKU_REFUSED', `a ${purpose} subordinate CA may not carry key purpose ${oid}: ${rule}`, {
    details: { purpose, keyPurpose: oid, rule },
  });
}

/** The reserved policies asked for, checked against the purpose's family (exactly one where BR requires it). */
function reservedFor(purpose: SubcaPurpose, rule: PurposeRule, requested: string[]): string[] {
  const reserved = requested.filter(isReserved);
  const foreign = reserved.filter((o) => !rule.reserved.includes(o));
  if (foreign.length)
    throw new CaError(
      'PURPOSE_POLICY_REFUSED',
      `policy ${foreign.join(', ')} is not a reserved policy of a ${purpose} subordinate CA (${rule.reserved.length ? `choose from ${rule.reserved.join(', ')}` : 'it takes none'}): ${rule.policyRule}`,
    );
  if (rule.reservedRequired && reserved.length === 0)
    throw new CaError(
      'PURPOSE_POLICY_REFUSED',
      `a ${purpose} subordinate CA asserts a reserved policy: add --policy with one of ${rule.reserved.join(', ')} (${rule.policyRule})`,
    );
  if (purpose === 'tls-server' && reserved.length > 1)
    throw new CaError(
      'PURPOSE_POLICY_REFUSED',
      `a tls-server subordinate CA asserts exactly one reserved policy, not ${reserved.join(' and ')}: ${rule.policyRule}`,
    );
  return reserved;
}

/** The purpose of a sub-CA certificate from its key purposes (for the lints): tls-server when serverAuth is there, and so on. */
export function purposeOfEku(eku: readonly string[]): SubcaPurpose | undefined {
  if (eku.includes(KP.serverAuth)) return 'tls-server';
  if (eku.includes(KP.emailProtection)) return 'smime';
  if (eku.includes(KP.codeSigning)) return 'code-signing';
  return undefined;
}
