import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { sql, type Generated } from 'kysely';
import { all, each, first, run, sqliteQueries } from './query.ts';

interface Tables {
  pets: { id: Generated<number>; name: string; details: string };
}
const q = sqliteQueries<Tables>();

describe('store/query: Kysely-built statements run synchronously on better-sqlite3', () => {
  it('inserts, reads, updates with a raw fragment, and iterates', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, details TEXT NOT NULL)');
      const a = run(db, q.insertInto('pets').values({ name: 'a', details: '{}' }));
      run(db, q.insertInto('pets').values({ name: 'b', details: '{}' }));
      assert.equal(a.lastInsertRowid, 1);
      const u = run(
        db,
        q
          .updateTable('pets')
          .set({ details: sql<string>`json_set(details, '$.x', ${'seven'})` })
          .where('name', '=', 'b'),
      );
      assert.equal(u.changes, 1);
      assert.deepEqual(first(db, q.selectFrom('pets').select(['name', 'details']).where('id', '=', 2)), {
        name: 'b',
        details: '{"x":"seven"}',
      });
      assert.equal(first(db, q.selectFrom('pets').selectAll().where('id', '=', 9)), undefined);
      assert.deepEqual(
        all(db, q.selectFrom('pets').select('name').orderBy('id')).map((r) => r.name),
        ['a', 'b'],
      );
      assert.deepEqual(
        [...each(db, q.selectFrom('pets').select('id').orderBy('id', 'desc'))].map((r) => r.id),
        [2, 1],
      );
    } finally {
      db.close();
    }
  });
});

describe('store/query: each() while the same query runs inside the loop', () => {
  it('does not fail with "statement is busy" (each has its own statement)', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, details TEXT NOT NULL)');
      run(db, q.insertInto('pets').values({ name: 'a', details: '{}' }));
      run(db, q.insertInto('pets').values({ name: 'b', details: '{}' }));
      const inner: number[] = [];
      for (const row of each(db, q.selectFrom('pets').select('id').orderBy('id'))) {
        inner.push(...[...each(db, q.selectFrom('pets').select('id').orderBy('id'))].map((r) => r.id + row.id));
      }
      assert.deepEqual(inner, [2, 3, 3, 4]);
    } finally {
      db.close();
    }
  });
});
