/** Repository of `revocations`: one row per revoked certificate (R-4.1, CPS 4.9). */
import { sql } from 'kysely';
import { all, eachRaw, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `revocations` table (migration 4). */
export interface RevocationsTable {
  certificate_id: number;
  issuer_ca_id: number;
  serial_hex: string;
  revoked_at: string;
  reason: string;
  invalidity_date: string | null;
  source: string;
  operator: string;
  approved_by: string | null;
  recorded_at: string;
}

const q = sqliteQueries<{ revocations: RevocationsTable }>();

/** A revocation, written in the caller's transaction with its audit event; the primary key refuses a second one. */
export function insertRevocation(
  db: Db,
  r: {
    certificateId: number;
    caId: number;
    serialHex: string;
    revokedAt: string;
    reason: string;
    invalidityDate: string | null;
    source: string;
    operator: string;
    approvedBy: string | null;
    recordedAt: string;
  },
): void {
  run(
    db,
    q.insertInto('revocations').values({
      certificate_id: r.certificateId,
      issuer_ca_id: r.caId,
      serial_hex: r.serialHex,
      revoked_at: r.revokedAt,
      reason: r.reason,
      invalidity_date: r.invalidityDate,
      source: r.source,
      operator: r.operator,
      approved_by: r.approvedBy,
      recorded_at: r.recordedAt,
    }),
  );
}

const revocationReads = sqliteQueries<{ revocations: { certificate_id: number; reason: string } }>();

/** The reason the certificate was revoked for, or undefined when it is not revoked. */
export function findRevocationReason(db: Db, certificateId: number | null): string | undefined {
  return first(
    db,
    revocationReads
      .selectFrom('revocations')
      .select('reason')
      .where('certificate_id', '=', certificateId as number),
  )?.reason;
}

const crlReads = sqliteQueries<{
  revocations: RevocationsTable;
  certificates: { id: number; issuer_ca_id: number; serial_hex: string; profile: string };
}>();

/** A CRL entry as read: serial_hex, revoked_at, reason, invalidity_date (a row array, not an object: issue 17.5). */
export type CrlEntryRow = [serialHex: string, revokedAt: string, reason: string, invalidityDate: string | null];

/**
 * What a CA's CRL lists: the revocations of the certificates it issued (never its own, profile
 * 'root'), in issuance order, one row at a time — a CRL of a million entries is encoded as it
 * is read, never held as rows (issue 17.5).
 */
export function revocationsForCrl(db: Db, caId: number): IterableIterator<CrlEntryRow> {
  return eachRaw<CrlEntryRow>(db, crlEntryQuery(caId).select(CRL_ENTRY_COLUMNS).orderBy('r.certificate_id'));
}

const CRL_ENTRY_COLUMNS = ['x.serial_hex', 'r.revoked_at', 'r.reason', 'r.invalidity_date'] as const;

/** The rows a CA's CRL lists (see revocationsForCrl), not yet selected or ordered. */
function crlEntryQuery(caId: number) {
  // CROSS JOIN keeps revocations the outer loop (SQLite does not reorder it): read in rowid order,
  // which is certificate_id, so no temporary sort of a million rows for the ORDER BY.
  return crlReads
    .selectFrom('revocations as r')
    .crossJoin('certificates as x')
    .whereRef('x.id', '=', 'r.certificate_id')
    .where('x.issuer_ca_id', '=', caId)
    .where('x.profile', '!=', 'root');
}

/** Rows in one page of CRL entries. */
const CRL_PAGE_ROWS = 4096;
const US = 0x1f;
const RS = 0x1e;

/**
 * The rows of revocationsForCrl, in the same order, in pages of up to 4096 read in one read
 * transaction (issue 17.5: through better-sqlite3 each row cost more than encoding its entry).
 * SQLite joins a page into one text: per row serial_hex US revoked_at US reason US
 * ('=' invalidity_date, or nothing for NULL) RS, US and RS being the ASCII unit and record
 * separators. A page whose text does not split into its rows so (a value holding a separator,
 * a value that is not text) is read row by row instead.
 */
export function forEachCrlEntryPage(db: Db, caId: number, fn: (page: CrlEntryPage) => void): void {
  db.transaction(() => {
    for (let after = -1; ; ) {
      const head = first(
        db,
        crlReads
          .selectFrom(
            crlEntryQuery(caId)
              .select([
                'r.certificate_id as id',
                // NULL (so the page is read row by row) unless every value is text, as the app
                // writes them: a BLOB would read as text here and as bytes row by row.
                sql<string | null>`CASE WHEN typeof(x.serial_hex) = 'text' AND typeof(r.revoked_at) = 'text' AND
                  typeof(r.reason) = 'text' AND typeof(r.invalidity_date) IN ('text', 'null') THEN
                  x.serial_hex || char(31) || r.revoked_at || char(31) || r.reason || char(31) ||
                  coalesce('=' || r.invalidity_date, '') || char(30) END`.as('packed'),
              ])
              .where('r.certificate_id', '>', after)
              .orderBy('r.certificate_id')
              .limit(CRL_PAGE_ROWS)
              .as('p'),
          )
          .select([
            sql<number>`count(*)`.as('rows'),
            sql<number | null>`max(id)`.as('last'),
            sql<Buffer | null>`CAST(group_concat(packed, '' ORDER BY id) AS BLOB)`.as('text'),
          ]),
      )!;
      if (head.last === null) return;
      const page = new CrlEntryPage(head.text, head.rows);
      if (!page.splits) {
        const rows = all(
          db,
          crlEntryQuery(caId)
            .select(CRL_ENTRY_COLUMNS)
            .where('r.certificate_id', '>', after)
            .where('r.certificate_id', '<=', head.last)
            .orderBy('r.certificate_id'),
        );
        fn(
          new CrlEntryPage(
            null,
            0,
            rows.map((r) => [r.serial_hex, r.revoked_at, r.reason, r.invalidity_date]),
          ),
        );
      } else fn(page);
      after = head.last;
    }
  })();
}

/**
 * One page of forEachCrlEntryPage: `next` moves to each row in turn; its fields are then ranges
 * of `text` (the UTF-8 of the values), or, for a page read row by row, only `row()`.
 */
export class CrlEntryPage {
  readonly text: Buffer | null;
  /** Per row where its three US and its RS are; undefined when the text does not split into the rows. */
  readonly #marks: Int32Array | undefined;
  readonly #rows: CrlEntryRow[] | undefined;
  #row = -1;
  serialStart = 0;
  serialEnd = 0;
  revokedStart = 0;
  revokedEnd = 0;
  reasonStart = 0;
  reasonEnd = 0;
  /** -1 when invalidity_date is NULL. */
  invalidityStart = -1;
  invalidityEnd = -1;

  constructor(text: Buffer | null, rows: number, asRows?: CrlEntryRow[]) {
    this.text = asRows ? null : text;
    this.#rows = asRows;
    this.#marks = asRows || text === null ? undefined : marksOf(text, rows);
  }

  /** True when the page can be read: its text splits into its rows, or it is read row by row. */
  get splits(): boolean {
    return !!this.#rows || !!this.#marks;
  }

  /** Moves to the next row; false after the last. */
  next(): boolean {
    const r = ++this.#row;
    if (this.#rows) return r < this.#rows.length;
    const m = this.#marks!;
    if (4 * r >= m.length) return false;
    this.serialStart = r === 0 ? 0 : m[4 * r - 1]! + 1;
    this.serialEnd = m[4 * r]!;
    this.revokedStart = this.serialEnd + 1;
    this.revokedEnd = m[4 * r + 1]!;
    this.reasonStart = this.revokedEnd + 1;
    this.reasonEnd = m[4 * r + 2]!;
    const end = m[4 * r + 3]!;
    this.invalidityStart = end === this.reasonEnd + 1 ? -1 : this.reasonEnd + 2;
    this.invalidityEnd = this.invalidityStart === -1 ? -1 : end;
    return true;
  }

  /** The row as revocationsForCrl gives it. */
  row(): CrlEntryRow {
    if (this.#rows) return this.#rows[this.#row]!;
    const t = this.text!;
    return [
      t.toString('utf8', this.serialStart, this.serialEnd),
      t.toString('utf8', this.revokedStart, this.revokedEnd),
      t.toString('utf8', this.reasonStart, this.reasonEnd),
      this.invalidityStart === -1 ? null : t.toString('utf8', this.invalidityStart, this.invalidityEnd),
    ];
  }
}

/**
 * Where the separators of `rows` records are in `text` (per record its three US and its RS), when
 * the text is exactly that many records of three US-separated fields and a fourth empty or
 * '='-led; undefined otherwise.
 */
function marksOf(text: Buffer, rows: number): Int32Array | undefined {
  const marks = new Int32Array(4 * rows);
  let n = 0;
  let separators = 0;
  for (let i = nextSeparator(text, 0); i !== -1 && n < marks.length; ) {
    const c = text[i];
    if (c === US) {
      if (++separators > 3) return undefined;
    } else if (separators !== 3) return undefined;
    else {
      const fourth = marks[n - 1]! + 1;
      if (i > fourth && text[fourth] !== 0x3d) return undefined;
      separators = 0;
    }
    marks[n++] = i;
    i = nextSeparator(text, i + 1);
  }
  return n === marks.length && (n === 0 ? text.length === 0 : marks[n - 1] === text.length - 1) ? marks : undefined;
}

/** The offset of the next US or RS at or after `from`, or -1. */
function nextSeparator(text: Buffer, from: number): number {
  for (let i = from; i < text.length; i++) if (text[i]! <= US && (text[i] === US || text[i] === RS)) return i;
  return -1;
}
