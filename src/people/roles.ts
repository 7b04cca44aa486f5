/**
 * The six trusted roles of CPS Table 5.2.1. Stored per operator now; the permission
 * table that enforces them per operation lives beside this file once roles are enforced.
 */
export const ROLES = {
  'improvement-committee':
    'Certification Services Improvement Committee: approves the CPS and CPs and their amendments; directs actions on audit findings',
  'person-responsible':
    'Person Responsible for Services: supervises the CA organisation; approves system and procedure changes',
  'operation-manager':
    'Service Operation Manager: instructs and observes operations; witnesses CA private key operations on site',
  'ca-administrator': 'CA Administrator: registers and issues certificates; issues CRLs',
  'ra-officer': 'Person in Charge of RA: accepts applications; identifies and authenticates subscribers',
  'log-examiner': 'Log Examiner: checks room access, system and other logs',
} as const;

export type Role = keyof typeof ROLES;

export function isRole(x: string): x is Role {
  return Object.hasOwn(ROLES, x);
}
