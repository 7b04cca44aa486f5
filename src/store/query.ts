/**
 * The one query style of `store/`: every statement is built with Kysely, typed by the tables it
 * names. The PostgreSQL online store runs Kysely's own async driver; the SQLite stores (offline
 * and online) stay synchronous on better-sqlite3 — a ceremony's one transaction must not yield —
 * so for them Kysely only compiles ("splitting build and execution" in Kysely's docs) and the
 * statement runs here, prepared once per database and SQL text.
 */
import type Database from 'better-sqlite3';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type Compilable } from 'kysely';

type Db = Database.Database;

/** A Kysely that builds SQLite statements for the tables in `T` and never connects. */
export function sqliteQueries<T>(): Kysely<T> {
  return new Kysely<T>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

function prepared(db: Db, text: string, pluck = false): Database.Statement {
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  // A plucking statement is cached apart: pluck is a mode of the statement object.
  const key = pluck ? `pluck:${text}` : text;
  let stmt = cache.get(key);
  if (!stmt) {
    stmt = db.prepare(text);
    if (pluck) stmt.pluck(true);
    cache.set(key, stmt);
  }
  return stmt;
}

function compiled(q: Compilable<unknown>): { sql: string; parameters: unknown[] } {
  const c = q.compile();
  return { sql: c.sql, parameters: [...c.parameters] };
}

/** Every row the query returns. */
export function all<R>(db: Db, q: Compilable<R>): R[] {
  const c = compiled(q);
  return prepared(db, c.sql).all(...c.parameters) as R[];
}

/**
 * The first column of every row the query returns: one value a row, no row object or array,
 * for pages of a million-row read (audit events, issue 17.5).
 */
export function allFirstColumn<V>(db: Db, q: Compilable<unknown>): V[] {
  const c = compiled(q);
  return prepared(db, c.sql, true).all(...c.parameters) as V[];
}

/** The first row, or undefined. */
export function first<R>(db: Db, q: Compilable<R>): R | undefined {
  const c = compiled(q);
  return prepared(db, c.sql).get(...c.parameters) as R | undefined;
}

/**
 * Rows one at a time, for lists too long to hold (CRL entries, audit events). The statement is
 * its own, not the cached one: better-sqlite3 refuses to run a statement that is still iterating,
 * so a cached one would break a loop that runs the same query inside.
 */
export function* each<R>(db: Db, q: Compilable<R>): IterableIterator<R> {
  const c = compiled(q);
  yield* db.prepare(c.sql).iterate(...c.parameters) as IterableIterator<R>;
}

/**
 * Like `each`, but each row is an array of its column values in select order: no object with
 * named keys per row, which is most of the cost of reading a million CRL entries or audit
 * events (issue 17.5).
 */
export function* eachRaw<R extends unknown[]>(db: Db, q: Compilable<unknown>): IterableIterator<R> {
  const c = compiled(q);
  yield* db
    .prepare(c.sql)
    .raw(true)
    .iterate(...c.parameters) as IterableIterator<R>;
}

/** An INSERT, UPDATE or DELETE: how many rows changed and the last inserted rowid. */
export function run(db: Db, q: Compilable<unknown>): { changes: number; lastInsertRowid: number } {
  const c = compiled(q);
  const r = prepared(db, c.sql).run(...c.parameters);
  return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
}
