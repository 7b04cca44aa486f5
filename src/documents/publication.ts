/** Into the publication file (CPS 2.2: the latest version; 9.12: with its version history). */
import type { Installation } from '../installation/installation.ts';
import { compareDocumentVersions, type DocumentMeta } from '../publish/format.ts';
import type { PublicationInput } from '../publish/write.ts';
import { allPublishedVersions, noticeVersion } from '../store/documents.ts';
import { CLAIM_PERIOD_MS } from './versions.ts';

/** The version history of one document as Markdown (served as docs/<name>-history.md). */
export function historyMarkdown(
  title: string,
  versions: {
    version: string;
    publishedAt: string;
    critical: boolean;
    description: string;
    sha256: string;
    claimsUntil: string;
  }[],
): string {
  const cell = (s: string) =>
    s
      .replace(/\\/g, '\\\\')
      .replace(/\|/g, '\\|')
      .replace(/\s*\n\s*/g, ' ');
  const lines = [
    `# ${title}: version history`,
    '',
    'A critical amendment raises the major version number, a non-critical one the minor number (CPS 9.12.1).',
    "Claims may be made within a week of a version's publication (CPS 9.12.2).",
    '',
    '| Version | Date | Amendment | Description | Claims until | SHA-256 |',
    '|---|---|---|---|---|---|',
    ...versions.map(
      (v) =>
        `| ${v.version} | ${v.publishedAt.slice(0, 10)} | ${v.critical ? 'critical' : 'non-critical'} | ${cell(v.description)} | ${v.claimsUntil.slice(0, 10)} | ${v.sha256} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** A document version reaching the Repository for the first time, and the end of its claim period. */
export interface DocumentNotice {
  id: number;
  claimsUntil: string;
}

/**
 * What a publication created at `createdAt` carries for the documents: every published version,
 * the latest at a stable path, and the history. A version that reaches the Repository for the
 * first time gets its claim period from `createdAt` (the notice, CPS 9.12.2); `noticed` lists
 * those, for the caller to record in the same transaction as the publication.
 */
export function documentsForPublication(
  inst: Installation,
  createdAt: Date,
): { documents: PublicationInput['documents']; noticed: DocumentNotice[] } {
  const documents: PublicationInput['documents'] = [];
  const noticed: DocumentNotice[] = [];
  const rows = allPublishedVersions(inst.db);
  for (const name of [...new Set(rows.map((r) => r.name))]) {
    const versions = rows
      .filter((r) => r.name === name)
      .sort((a, b) => compareDocumentVersions(a.version!, b.version!))
      .map((r) => {
        let claimsUntil = r.claims_until;
        if (!claimsUntil) {
          claimsUntil = new Date(createdAt.getTime() + CLAIM_PERIOD_MS).toISOString();
          noticed.push({ id: r.id, claimsUntil });
        }
        return { row: r, claimsUntil };
      });
    for (const { row, claimsUntil } of versions) {
      const meta: DocumentMeta = {
        title: row.title,
        version: row.version!,
        role: 'version',
        publishedAt: row.published_at!,
        critical: row.critical === 1,
        description: row.description,
        claimsUntil,
      };
      documents.push({ name, text: row.text, meta });
    }
    const newest = versions[versions.length - 1]!.row;
    documents.push({
      name,
      text: newest.text,
      meta: { title: newest.title, version: newest.version!, role: 'latest' },
    });
    const history = historyMarkdown(
      newest.title,
      versions.map(({ row, claimsUntil }) => ({
        version: row.version!,
        publishedAt: row.published_at!,
        critical: row.critical === 1,
        description: row.description,
        sha256: row.sha256,
        claimsUntil,
      })),
    );
    documents.push({ name, text: history, meta: { title: newest.title, version: newest.version!, role: 'history' } });
  }
  return { documents, noticed };
}

/** Records the notice of versions first carried by publication `version` (inside its transaction). */
export function recordDocumentNotice(
  inst: Installation,
  publicationVersion: number,
  createdAt: Date,
  noticed: DocumentNotice[],
): void {
  for (const n of noticed)
    noticeVersion(inst.db, n.id, {
      at: createdAt.toISOString(),
      publication: publicationVersion,
      claimsUntil: n.claimsUntil,
    });
}
