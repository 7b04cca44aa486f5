/**
 * A store URL as shown: apart from the PostgreSQL adapter, so that parsing a `--store` spelling
 * (store-location.ts) does not load the `pg` driver into a responder that serves from SQLite.
 */

/** The URL with any password replaced by `***` (for logs, messages and `online status`). */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}
