/** Repository of `serial_reservations`: serials taken before the key signs them (intent first). */
import { run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `serial_reservations` table (migration 2). */
export interface SerialReservationsTable {
  issuer_ca_id: number;
  serial_hex: string;
  ceremony_id: number;
  reserved_at: string;
}

const q = sqliteQueries<{ serial_reservations: SerialReservationsTable }>();

/** Reserves a serial for a ceremony; the primary key refuses a serial used twice (RFC 5280 4.1.2.2). */
export function reserveSerial(db: Db, caId: number, serialHex: string, ceremonyId: number, reservedAt: string): void {
  run(
    db,
    q.insertInto('serial_reservations').values({
      issuer_ca_id: caId,
      serial_hex: serialHex,
      ceremony_id: ceremonyId,
      reserved_at: reservedAt,
    }),
  );
}
