/**
 * Who may do what (CPS 5.2; R-5). One table a reader can check against the CPS line by line:
 * for each operation, the role each participant must hold, and which participants must be
 * different people. Plus which roles one person may combine (CPS 5.2.4: "Authorities for
 * system operations, acts of approving, and audits are separated").
 */
import { CaError } from '../errors.ts';
import type { Role } from './roles.ts';

/** A participant's place in an operation. */
export type Slot =
  | 'operator'
  | 'witness'
  | 'custodian'
  | 'authoriser'
  | 'approver'
  | 'submitter'
  | 'recorder'
  | 'examiner'
  | 'holder';

export interface OperationRule {
  /** The CPS line the rule enforces. */
  cps: string;
  /** The role each slot needs. */
  slots: Partial<Record<Slot, Role>>;
  /** Pairs of slots that must be filled by different people (5.2.2 "at least two persons", 5.2.4). */
  distinct: [Slot, Slot][];
  /**
   * Whether participants must be in date with training and background checks (5.3.3). Not for
   * personnel administration itself, which must be able to bring people back in date.
   */
  requiresCurrentTraining?: false;
}

export const OPERATIONS = {
  'ceremony.root-ca': {
    cps: '6.1.1 "jointly performed by at least two authorized individuals under observation by the Service Operation Manager(s)"',
    slots: { custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [['custodian', 'witness']],
  },
  'certificate.issue': {
    cps: '5.2.1 CA Administrator "Registers and issues Certificates"; 6.2.8 activation by at least two; 5.2.4 approving and operating separated',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
      ['operator', 'approver'],
    ],
  },
  'ca.cross-csr': {
    cps: '6.2.8 a CA key is activated by at least two CA Administrators under observation; BR 7.1.2.2 cross-certification of this root by another CA',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'certificate.revoke': {
    cps: '4.9 revocation on a request approved by the RA (5.2.1), performed by a CA Administrator; 5.2.4 approving and operating separated',
    slots: {
      operator: 'ca-administrator',
      approver: 'ra-officer',
      custodian: 'ca-administrator',
      witness: 'operation-manager',
    },
    distinct: [
      ['operator', 'approver'],
      ['operator', 'witness'],
      ['approver', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'crl.issue': {
    cps: '5.2.1 CA Administrator "Issues CRLs"; 6.2.8 activation by at least two',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'ocsp.presign': {
    cps: '4.10 status services; 5.2.1 CA Administrator; 6.2.8 activation by at least two',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'publication.sign': {
    cps: '2.2 publication of certificate information; 6.2.8 activation by at least two',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'status.ceremony': {
    cps: '4.9.7 CRL issuance frequency, 4.9.9 on-line status, 2.2 publication; 5.2.1 CA Administrator "Issues CRLs"; 6.2.8 activation by at least two',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'delegated-key.generate': {
    cps: "6.1.1 key pair generation under observation by the Service Operation Manager; 6.2.2 multi-person control: a root's OCSP responder or publication key is made with its own custodians before the root certifies it (BR 6.1.7)",
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'application.submit': {
    cps: '5.2.1 Person in Charge of RA "Accepts Certificate applications"',
    slots: { submitter: 'ra-officer' },
    distinct: [],
  },
  'application.decide': {
    cps: '5.2.1 Person in Charge of RA "Qualifies (identifies and authenticates) Subscribers"; 5.2.4 the one who files does not approve',
    slots: { approver: 'ra-officer' },
    distinct: [['approver', 'submitter']],
  },
  'application.accept': {
    cps: '4.4 Certificate Acceptance, recorded by the RA (5.2.1)',
    slots: { recorder: 'ra-officer' },
    distinct: [],
  },
  'operator.manage': {
    cps: '5.2.1 Person Responsible for Services "Supervises the CA management organization"; 5.3 appointment, training, rotation, removal; 5.2.2 two persons',
    slots: { authoriser: 'person-responsible', witness: 'operation-manager' },
    distinct: [['authoriser', 'witness']],
    requiresCurrentTraining: false,
  },
  'audit.read': {
    cps: '5.4.4 "secure sole access by the authorized personnel"; 5.2.1 Log Examiner "Checks room access, system and other logs"',
    slots: { examiner: 'log-examiner' },
    distinct: [],
  },
  'audit.key-init': {
    cps: '5.4.4 "appropriate controls on Audit Log access": the audit key that signs checkpoints is held by Log Examiners (5.2.1), made on the Person Responsible\'s approval ("Approves CA Systems/operational procedure changes") with a Service Operation Manager present (5.2.2)',
    slots: { authoriser: 'person-responsible', witness: 'operation-manager', holder: 'log-examiner' },
    distinct: [['authoriser', 'witness']],
  },
  'audit.checkpoint': {
    cps: '5.4.4 protection of the Audit Log: a Log Examiner signs the tree head with the audit key (5.2.1 Log Examiner "Checks room access, system and other logs")',
    slots: { examiner: 'log-examiner' },
    distinct: [],
  },
  'audit.review': {
    cps: '5.4.2 "The CAs probe the Audit Log on a regular basis"; 5.2.1 Log Examiner "Checks room access, system and other logs"',
    slots: { examiner: 'log-examiner' },
    distinct: [],
  },
  'audit.export': {
    cps: '5.4.5 "Audit Logs are backed up onto offline recording media"; 5.4.4 "secure sole access by the authorized personnel"',
    slots: { examiner: 'log-examiner' },
    distinct: [],
  },
  'audit.ingest': {
    cps: '5.4.1 "event logs of the CA Systems, Repository system, and the network devices"; 5.4.6 collecting "automatically or manually"; 5.2.1 Log Examiner "Checks room access, system and other logs"',
    slots: { examiner: 'log-examiner' },
    distinct: [],
  },
  'tsa.init': {
    cps: '5.5.5 "Time-Stamp the critical information recorded therein": the internal TSA key is made with its holders (CA Administrators, 5.2.1) and its certificate issued by a root under observation (6.1.1)',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'tsa.stamp': {
    cps: '5.5.5 "Time-Stamp the critical information recorded therein": one holder of the TSA key stamps a record',
    slots: { operator: 'ca-administrator' },
    distinct: [],
  },
  'archive.backup': {
    cps: '5.5.4 "The primary and secondary backup data are taken whenever a change is made in such critical data as may affect the CA operations"',
    slots: { operator: 'ca-administrator' },
    distinct: [],
  },
  'key.destroy': {
    cps: '6.2.10 keys "completely initialized or physically destroyed by at least two authorized individuals as in 6.2.2", backups "following the same procedure"; 5.2.2 under observation',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'ca.renew': {
    cps: '5.6 "renewal of Certificates thereof shall be performed basically when their usage periods become shorter than the maximum validity periods"; 6.2.8 activation by at least two; 6.1.1 under observation',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'ca.rekey': {
    cps: '5.6 "Re-Keying of the CAs\' own Key Pairs"; 6.1.1 key generation "jointly performed by at least two authorized individuals under observation by the Service Operation Manager(s)"',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'token.init': {
    cps: '6.4.1 activation data generated and split so "at least two" are needed; 6.2.1 HSM set up by a CA Administrator (5.2.1) under observation (5.2.2); the PIN holders are CA Administrators (6.2.2)',
    slots: { operator: 'ca-administrator', custodian: 'ca-administrator', witness: 'operation-manager' },
    distinct: [
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'archive.restore': {
    cps: '5.7.2 "the CAs promptly engage in the system recovery efforts using the relevant hardware, software or data that are retained as backup"; 5.2.2 two persons',
    slots: { operator: 'ca-administrator', witness: 'operation-manager' },
    distinct: [['operator', 'witness']],
  },
  'ca.announce-termination': {
    cps: '5.8 "notify Subscribers and other affected participants three (3) months prior to the termination"; 5.2.1 Person Responsible for Services "Supervises the CA management organization"',
    slots: { authoriser: 'person-responsible' },
    distinct: [],
  },
  'ca.terminate': {
    cps: '5.8 "All Certificates issued by the CAs are revoked prior to the termination"; decided by the Person Responsible (5.2.1), performed by a CA Administrator, key destroyed by at least two under observation (6.2.10, 6.1.1)',
    slots: {
      authoriser: 'person-responsible',
      operator: 'ca-administrator',
      custodian: 'ca-administrator',
      witness: 'operation-manager',
    },
    distinct: [
      ['authoriser', 'operator'],
      ['authoriser', 'witness'],
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'ca.compromise': {
    cps: '5.7.1 "Should it be determined that CA Private Keys have been or may be compromised ... the predetermined plans and procedures are followed"; determined by the Person Responsible (5.2.1), performed by a CA Administrator under observation (6.1.1)',
    slots: {
      authoriser: 'person-responsible',
      operator: 'ca-administrator',
      custodian: 'ca-administrator',
      witness: 'operation-manager',
    },
    distinct: [
      ['authoriser', 'operator'],
      ['authoriser', 'witness'],
      ['operator', 'witness'],
      ['custodian', 'witness'],
    ],
  },
  'document.propose': {
    cps: '1.5.1 the CPS is "maintained and administered by SECOM"; 5.2.1 Person Responsible for Services "Approves CA Systems/operational procedure changes"',
    slots: { submitter: 'person-responsible' },
    distinct: [],
  },
  'document.decide': {
    cps: '1.5.4 "published in the repository as developed and revised under approval of the SECOM Certification Services Improvement Committee"; 5.2.1 Committee "Approves development/amendment/termination of this CPS and the relevant CP"; 5.2.4 the one who drafts does not approve',
    slots: { approver: 'improvement-committee' },
    distinct: [['approver', 'submitter']],
  },
  'document.publish': {
    cps: '2.3 "This CPS and the relevant CP are published in the Repository as revised"; 9.12.1 the version number is raised by the kind of amendment',
    slots: { authoriser: 'person-responsible' },
    distinct: [],
  },
  'document.claim': {
    cps: '9.12.2 "Subscribers may make claims within a week of such notification"; 5.2.1 the RA receives what Subscribers send',
    slots: { recorder: 'ra-officer' },
    distinct: [],
  },
  'policy.register': {
    cps: '1.2 "The Services may add a new CP in the future"; 5.2.1 Person Responsible "Approves CA Systems/operational procedure changes"; 5.2.2 two persons',
    slots: { authoriser: 'person-responsible', witness: 'operation-manager' },
    distinct: [['authoriser', 'witness']],
  },
} as const satisfies Record<string, OperationRule>;

export type Operation = keyof typeof OPERATIONS;

/**
 * Roles one person must not combine (5.2.4). Symmetric; checked when a role is assigned.
 * The Log Examiner audits and so holds no operating or approving role; the Person Responsible
 * and the Committee approve and so do not operate; the Service Operation Manager observes the
 * CA Administrators and so is not one of them.
 */
export const INCOMPATIBLE_ROLES: [Role, Role, string][] = [
  ['log-examiner', 'ca-administrator', 'audit vs operation'],
  ['log-examiner', 'operation-manager', 'audit vs operation'],
  ['log-examiner', 'ra-officer', 'audit vs operation'],
  ['log-examiner', 'person-responsible', 'audit vs approval'],
  ['log-examiner', 'improvement-committee', 'audit vs approval'],
  ['person-responsible', 'ca-administrator', 'approval vs operation'],
  ['person-responsible', 'operation-manager', 'approval vs operation'],
  ['improvement-committee', 'ca-administrator', 'approval vs operation'],
  ['improvement-committee', 'operation-manager', 'approval vs operation'],
  ['improvement-committee', 'ra-officer', 'approval vs operation'],
  ['operation-manager', 'ca-administrator', 'the observer is not the observed (5.2.1, 6.1.1)'],
];

/** Throws ROLE_COMBINATION_FORBIDDEN when `roles` holds an incompatible pair. */
export function checkRoleCombination(person: string, roles: Role[]): void {
  for (const [a, b, why] of INCOMPATIBLE_ROLES) {
    if (roles.includes(a) && roles.includes(b)) {
      throw new CaError(
        'ROLE_COMBINATION_FORBIDDEN',
        `${person} cannot hold both ${a} and ${b} (${why}; CPS 5.2.4 separation of duties)`,
      );
    }
  }
}

/** The role a slot of an operation needs. */
export function requiredRole(operation: Operation, slot: Slot): Role {
  const role = (OPERATIONS[operation].slots as Partial<Record<Slot, Role>>)[slot];
  if (!role) throw new Error(`operation ${operation} has no ${slot} slot`);
  return role;
}

/** Throws ROLE_MISSING naming the role when `person` does not hold what `slot` needs. */
export function checkSlotRole(operation: Operation, slot: Slot, person: string, roles: readonly string[]): void {
  const role = requiredRole(operation, slot);
  if (!roles.includes(role)) {
    throw new CaError(
      'ROLE_MISSING',
      `${person} cannot act as ${slot} of ${operation}: that needs the ${role} role (CPS ${OPERATIONS[operation].cps.split(' ')[0]}); ${person} holds ${roles.join(', ') || 'no role'}`,
      { details: { operation, slot, requiredRole: role } },
    );
  }
}

/** Throws SAME_PERSON_TWICE when two slots that must differ name the same person. */
export function checkDistinct(operation: Operation, people: Partial<Record<Slot, string[]>>): void {
  for (const [a, b] of OPERATIONS[operation].distinct as readonly (readonly [Slot, Slot])[]) {
    const overlap = (people[a] ?? []).filter((x) => (people[b] ?? []).includes(x));
    if (overlap.length) {
      throw new CaError(
        'SAME_PERSON_TWICE',
        `${overlap.join(', ')} cannot be both ${a} and ${b} of ${operation} (CPS 5.2.2/5.2.4: different people)`,
        { details: { operation, slots: [a, b], people: overlap } },
      );
    }
  }
}
