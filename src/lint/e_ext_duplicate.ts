import { ALL_PROFILES, defineLint, extensionsOf, oidName } from './support.ts';

/** RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a particular extension." */
export const e_ext_duplicate = defineLint(
  {
    name: 'e_ext_duplicate',
    description: 'No extension appears more than once.',
    citation: 'RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a particular extension."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const counts = new Map<string, number>();
    for (const ext of extensionsOf(cert)) counts.set(ext.extnID, (counts.get(ext.extnID) ?? 0) + 1);
    for (const [oid, n] of counts) if (n > 1) report.error(`extension ${oidName(oid)} appears ${n} times`);
  },
);
