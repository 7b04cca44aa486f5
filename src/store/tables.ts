/** Facts about the schema itself, for readers that may meet a database older than theirs. */
import { first, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

interface SchemaTables {
  sqlite_master: { type: string; name: string };
}

const q = sqliteQueries<SchemaTables>();

/** Whether the database has a table of this name (a set made before a migration lacks it). */
export function hasTable(db: Db, name: string): boolean {
  return (
    first(db, q.selectFrom('sqlite_master').select('name').where('type', '=', 'table').where('name', '=', name)) !==
    undefined
  );
}
