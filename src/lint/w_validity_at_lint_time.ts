import { ALL_PROFILES, defineLint, notAfterOf, notBeforeOf } from './support.ts';

/** How far notBefore may lie before the time of signing. */
export const MAX_BACKDATE_MS = 48 * 60 * 60 * 1000;

/**
 * BR 7.1.2.7: "| `notBefore` | A value within 48 hours of the certificate signing operation. |"
 * BR 7.1.2.1.1 (roots): notBefore between "One day prior to the time of signing" and "The time of signing".
 *
 * ctx.now is the time of signing when linting before issuance (CONVENTIONS 5). The same lint
 * re-run later on an old certificate sees it as backdated or expired, so every finding here is
 * a warning: the caller that issues decides whether a warning stops the ceremony.
 */
export const w_validity_at_lint_time = defineLint(
  {
    name: 'w_validity_at_lint_time',
    description:
      'At ctx.now the certificate is current and notBefore is neither in the future nor more than 48 hours back.',
    citation: 'BR 7.1.2.7: "| `notBefore` | A value within 48 hours of the certificate signing operation. |"',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const now = Math.floor(ctx.now.getTime() / 1000) * 1000; // certificate times have whole seconds
    const nb = notBeforeOf(cert).getTime();
    const na = notAfterOf(cert).getTime();
    if (na < now)
      report.warning(`the certificate expired at ${new Date(na).toISOString()}, before ${ctx.now.toISOString()}`);
    if (nb > now)
      report.warning(
        `notBefore ${new Date(nb).toISOString()} is later than the time of signing ${ctx.now.toISOString()}`,
      );
    else if (now - nb > MAX_BACKDATE_MS)
      report.warning(`notBefore ${new Date(nb).toISOString()} is more than 48 hours before ${ctx.now.toISOString()}`);
  },
);
