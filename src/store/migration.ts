/** One schema migration: applied once, in order, inside a transaction (see migrations.ts). */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}
