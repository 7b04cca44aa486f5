import { DAY_MS, EFFECTIVE, defineLint, legacyNote, notAfterOf, notBeforeOf, severitySince } from './support.ts';

export const ROOT_MIN_DAYS = 2922;
export const ROOT_MAX_DAYS = 9132;

/**
 * BR 7.1.2.1.1 Root CA Validity: "| `notAfter` | 2922 days (approx. 8 years) | 9132 days (approx. 25 years) |"
 * CPS 6.3.2: "The validity period of CA Key Pairs is assumed to be twenty (20) years".
 *
 * Longer than 9132 days is an error for roots issued under BR 2.0 (2023-09-15) and a warning
 * before. Shorter than 2922 days is a warning: it is harmless to relying parties and test
 * ceremonies use short roots.
 */
export const e_root_validity_period = defineLint(
  {
    name: 'e_root_validity_period',
    description: `A root certificate is valid for between ${ROOT_MIN_DAYS} and ${ROOT_MAX_DAYS} days.`,
    citation: 'BR 7.1.2.1.1: "| `notAfter` | 2922 days (approx. 8 years) | 9132 days (approx. 25 years) |"',
    appliesTo: ['root'],
  },
  (cert, _ctx, report) => {
    const days = (notAfterOf(cert).getTime() - notBeforeOf(cert).getTime()) / DAY_MS;
    if (days > ROOT_MAX_DAYS) {
      const severity = severitySince(cert, EFFECTIVE.brProfiles);
      report.add(
        severity,
        `root validity is ${days.toFixed(1)} days; at most ${ROOT_MAX_DAYS} are allowed${legacyNote(severity, EFFECTIVE.brProfiles)}`,
      );
    } else if (days < ROOT_MIN_DAYS) {
      report.warning(`root validity is ${days.toFixed(1)} days; BR expects at least ${ROOT_MIN_DAYS}`);
    }
  },
);
