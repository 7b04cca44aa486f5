/**
 * The offline use cases of src/, a folder per operation (DESIGN.md "Modules"): the layering
 * rules and the check that `rootca serve` loads none of them read the same list.
 */
export const USE_CASES = [
  'people',
  'custody',
  'issuance',
  'status',
  'lifecycle',
  'records',
  'documents',
  'installation',
  'operation',
];
