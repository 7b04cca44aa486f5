/**
 * Issue 17.5: a CA's CRL entries are read in pages joined by SQLite (forEachCrlEntryPage). These
 * tests hold the pages to the rows revocationsForCrl reads one at a time, on the real schema:
 * across page boundaries, NULL and empty invalidity dates, text that is not ASCII, values that
 * hold the separators (such a page is read row by row), the CA's own certificate and other CAs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { insertIssuedCertificate } from './certificates.ts';
import { openDatabase, type Db } from './db.ts';
import { type CrlEntryRow, forEachCrlEntryPage, insertRevocation, revocationsForCrl } from './revocations.ts';

function withStore(fn: (db: Db) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'rootca-revocations-'));
  const db = openDatabase(join(dir, 'rootca.db'), { create: true });
  try {
    db.pragma('foreign_keys = OFF'); // certificates of CAs 1 and 2 without building the CAs
    fn(db);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One revoked certificate of `caId`. */
function revoked(
  db: Db,
  caId: number,
  serialHex: string,
  at: string,
  reason: string,
  inv: string | null,
  profile = 'subca',
) {
  const certificateId = insertIssuedCertificate(db, {
    caId,
    serialHex,
    profile,
    subject: `CN=${serialHex}`,
    notBefore: at,
    notAfter: at,
    sha256: `${caId}:${serialHex}`,
    der: Buffer.alloc(1),
    createdAt: at,
    requester: null,
    csrDer: null,
    details: {},
  });
  insertRevocation(db, {
    certificateId,
    caId,
    serialHex,
    revokedAt: at,
    reason,
    invalidityDate: inv,
    source: 'test',
    operator: 'alice',
    approvedBy: null,
    recordedAt: at,
  });
}

/** The rows of every page, and how many pages were read row by row. */
function paged(db: Db, caId: number): { rows: CrlEntryRow[]; pages: number; byRow: number } {
  const rows: CrlEntryRow[] = [];
  let pages = 0;
  let byRow = 0;
  forEachCrlEntryPage(db, caId, (page) => {
    pages++;
    if (!page.text) byRow++;
    while (page.next()) rows.push(page.row());
  });
  return { rows, pages, byRow };
}

describe('issue 17.5 CRL entries read in pages', () => {
  it('give the rows revocationsForCrl gives, in its order, across pages', () => {
    withStore((db) => {
      db.transaction(() => {
        for (let i = 0; i < 9000; i++) {
          const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
          const inv = i % 7 === 0 ? at : i % 11 === 0 ? '' : null;
          revoked(db, 1, (0x100000 + i).toString(16), at, i % 13 === 0 ? 'Überholt ✓' : 'superseded', inv);
          if (i % 1000 === 0) revoked(db, 2, (0x100000 + i).toString(16), at, 'keyCompromise', null);
        }
        revoked(db, 1, '01', '2026-01-01T00:00:00.000Z', 'keyCompromise', null, 'root');
      })();
      const { rows, pages, byRow } = paged(db, 1);
      assert.deepEqual(rows, [...revocationsForCrl(db, 1)]);
      assert.equal(rows.length, 9000);
      assert.deepEqual([pages, byRow], [3, 0]);
      assert.equal(rows.filter((r) => r[3] === null).length, 9000 - rows.filter((r) => r[3] !== null).length);
      assert.ok(rows.some((r) => r[3] === '') && rows.some((r) => r[2] === 'Überholt ✓'));
      assert.deepEqual(paged(db, 2).rows, [...revocationsForCrl(db, 2)]);
      assert.deepEqual(paged(db, 3), { rows: [], pages: 0, byRow: 0 });
    });
  });

  it('read a page whose values hold a separator row by row, and only that page', () => {
    for (const odd of ['a\u001fb', 'a\u001eb', '\u001f', '\u001e', '=\u001e', 'x\u001e\u001f']) {
      for (const field of [0, 1, 2, 3]) {
        withStore((db) => {
          db.transaction(() => {
            for (let i = 0; i < 5000; i++) {
              const values: [string, string, string, string | null] = [
                (0x100000 + i).toString(16),
                '2026-01-01T00:00:00.000Z',
                'superseded',
                i % 2 ? null : '2025-12-31T00:00:00.000Z',
              ];
              if (i === 4500) values[field] = odd;
              revoked(db, 1, ...values);
            }
          })();
          const { rows, pages, byRow } = paged(db, 1);
          assert.deepEqual(rows, [...revocationsForCrl(db, 1)], JSON.stringify([odd, field]));
          assert.deepEqual([pages, byRow], [2, 1], JSON.stringify([odd, field]));
        });
      }
    }
  });

  it('read a page with a value that is not text (a BLOB the app never writes) row by row, as bytes', () => {
    for (const field of ['revoked_at', 'reason', 'invalidity_date']) {
      withStore((db) => {
        db.transaction(() => {
          for (let i = 0; i < 5000; i++)
            revoked(db, 1, (0x100000 + i).toString(16), '2026-01-01T00:00:00.000Z', 'superseded', null);
        })();
        db.prepare(`UPDATE revocations SET ${field} = ? WHERE rowid = 4500`).run(Buffer.from('2026'));
        const { rows, pages, byRow } = paged(db, 1);
        assert.deepEqual(rows, [...revocationsForCrl(db, 1)], field);
        assert.ok(Buffer.isBuffer(rows[4499]![field === 'revoked_at' ? 1 : field === 'reason' ? 2 : 3]), field);
        assert.deepEqual([pages, byRow], [2, 1], field);
      });
    }
  });
});
