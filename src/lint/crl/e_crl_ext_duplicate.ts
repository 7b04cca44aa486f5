import { crlExtensionsOf, defineCrlEntryLint, entryCheck, entryLabel, oidName } from './support.ts';

/**
 * RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a particular
 * extension." X.509's Extensions type carries the same rule for CRL and CRL entry extensions:
 * a relying party cannot tell which of two cRLNumber or reasonCode values applies.
 */
export const e_crl_ext_duplicate = defineCrlEntryLint(
  {
    name: 'e_crl_ext_duplicate',
    description: 'No CRL extension, and no extension of one CRL entry, appears twice.',
    citation: 'RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a particular extension."',
  },
  (crl, _ctx, report) => {
    const dupes = (oids: string[]): string[] => [...new Set(oids.filter((o, i) => oids.indexOf(o) !== i))];
    for (const oid of dupes(crlExtensionsOf(crl).map((e) => e.extnID)))
      report.error(`CRL extension ${oidName(oid)} appears more than once`);
    return entryCheck(
      (entry) => {
        const exts = entry.crlEntryExtensions ?? [];
        if (exts.length < 2) return; // the usual entry: one reasonCode or none
        for (const oid of dupes(exts.map((e) => e.extnID)))
          report.error(`${entryLabel(entry)}: extension ${oidName(oid)} appears more than once`);
      },
      (raw) => raw.extensions.length < 2,
    );
  },
);
