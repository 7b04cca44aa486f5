/**
 * docs/errors.md, rendered from the error catalogue so the reference cannot drift from the
 * code (CONVENTIONS 14, 16). scripts/gen-docs-errors.mjs writes it; a test compares.
 */
import { ERROR_AREAS } from './catalogue.ts';

const HEADER = `# Errors

Generated from \`src/errors/catalogue.ts\` by \`node scripts/gen-docs-errors.mjs\`: edit the
catalogue, not this file (a test fails when they differ).

Every refusal or failure carries a stable code. The CLI prints \`rootca: <message> [CODE]\` on
stderr and exits with the code's exit status: **0** ok, **1** refused or failed, **2** the
command line is wrong (nothing was attempted). Scripts match on the code, never on the
message. The online server answers with the HTTP status listed (a 5xx body never carries
internals). Every refusal of an operation is also an audit event whose
\`details.code\` is the same code.

A message without a code (\`rootca: unexpected error: …\`) is a bug: please report it.
`;

/** The anchor GitHub gives a heading, for links from other docs. */
export function anchorOf(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

export function renderErrorsMarkdown(): string {
  const sections = ERROR_AREAS.map(({ title, errors }) => {
    const rows = Object.entries(errors)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, e]) => `| \`${code}\` | ${e.exit} | ${e.http} | ${e.summary.replace(/\|/g, '\\|')} |`);
    return [`## ${title}`, '', '| code | exit | HTTP | meaning |', '|---|---|---|---|', ...rows].join('\n');
  });
  return `${HEADER}\n${sections.join('\n\n')}\n`;
}
