import { ALL_PROFILES, basicConstraintsOf, defineLint, keyUsagesOf } from './support.ts';

/**
 * RFC 5280 4.2.1.9: "CAs MUST NOT include the pathLenConstraint field unless the cA boolean is
 * asserted and the key usage extension asserts the keyCertSign bit."
 * BR 1.x 7.1.2.1 (a, roots): "The `pathLenConstraint` field SHOULD NOT be present." (a warning)
 */
export const e_path_len_constraint_improperly_included = defineLint(
  {
    name: 'e_path_len_constraint_improperly_included',
    description: 'pathLenConstraint appears only with cA TRUE and keyCertSign, and not on a root.',
    citation:
      'RFC 5280 4.2.1.9: "CAs MUST NOT include the pathLenConstraint field unless the cA boolean is asserted and the key usage extension asserts the keyCertSign bit."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const bc = basicConstraintsOf(cert);
    if (bc?.pathLenConstraint === undefined) return;
    if (!bc.cA) report.error('pathLenConstraint is present but cA is FALSE');
    else if (!keyUsagesOf(cert)?.has('keyCertSign'))
      report.error('pathLenConstraint is present but keyUsage does not assert keyCertSign');
    if (ctx.profile === 'root')
      report.warning(
        `root certificate carries pathLenConstraint ${bc.pathLenConstraint} (BR 1.x 7.1.2.1: SHOULD NOT be present)`,
      );
  },
);
