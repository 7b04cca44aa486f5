/** Repository of `ocsp_responses`: pre-signed OCSP responses (RFC 6960/5019), the newest per certificate and hash current. */
import type { Generated } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `ocsp_responses` table (migration 4). */
export interface OcspResponsesTable {
  id: Generated<number>;
  ca_id: number;
  certificate_id: number;
  hash_algorithm: 'sha1' | 'sha256';
  cert_id_key: string;
  status: 'good' | 'revoked';
  this_update: string;
  next_update: string;
  sha256: string;
  der: Buffer;
  ceremony_id: number | null;
  created_at: string;
}

const q = sqliteQueries<{ ocsp_responses: OcspResponsesTable }>();

/** One pre-signed response, in the transaction that stores them all with their one audit event. */
export function insertOcspResponse(
  db: Db,
  x: {
    caId: number;
    certificateId: number;
    hashAlgorithm: 'sha1' | 'sha256';
    certIdKey: string;
    status: 'good' | 'revoked';
    thisUpdate: string;
    nextUpdate: string;
    sha256: string;
    der: Buffer;
    ceremonyId: number;
    createdAt: string;
  },
): void {
  run(
    db,
    q.insertInto('ocsp_responses').values({
      ca_id: x.caId,
      certificate_id: x.certificateId,
      hash_algorithm: x.hashAlgorithm,
      cert_id_key: x.certIdKey,
      status: x.status,
      this_update: x.thisUpdate,
      next_update: x.nextUpdate,
      sha256: x.sha256,
      der: x.der,
      ceremony_id: x.ceremonyId,
      created_at: x.createdAt,
    }),
  );
}

/** The latest response per certificate and hash of a CA: what is published and served. */
export function currentOcspResponseRows(db: Db, caId: number) {
  return all(
    db,
    q
      .selectFrom('ocsp_responses as o')
      .select([
        'o.certificate_id',
        'o.hash_algorithm',
        'o.cert_id_key',
        'o.status',
        'o.this_update',
        'o.next_update',
        'o.der',
      ])
      .where('o.ca_id', '=', caId)
      .where('o.id', '=', (eb) =>
        eb
          .selectFrom('ocsp_responses')
          .select((s) => s.fn.max('ocsp_responses.id').as('id'))
          .whereRef('ocsp_responses.certificate_id', '=', 'o.certificate_id')
          .whereRef('ocsp_responses.hash_algorithm', '=', 'o.hash_algorithm'),
      )
      .orderBy('o.certificate_id')
      .orderBy('o.hash_algorithm'),
  );
}

/** The bytes of a stored response by digest, to write a lost output again rather than sign again (issue 14). */
export function ocspResponseDerBySha256(db: Db, sha256: string): Buffer | undefined {
  return first(db, q.selectFrom('ocsp_responses').select('der').where('sha256', '=', sha256).limit(1))?.der;
}
