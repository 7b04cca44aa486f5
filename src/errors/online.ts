/** Errors of the online side and the publication file between the halves (DESIGN "Two halves"). */
import { conflict, failed, forbidden, invalid, unavailable, unknown } from './entry.ts';

export const ONLINE_ERRORS = {
  NOTHING_TO_SERVE: unavailable(
    'The online store holds no publication: import one with --import FILE --trust ROOT.pem.',
  ),
  PUBLICATION_CACHE_INVALID: failed('The local copy of the publication cannot be served (expired or does not verify).'),
  PUBLICATION_FAILED: failed('The change is committed but no publication file was written; run `rootca publish`.'),
  PUBLICATION_INPUT_INVALID: failed(
    'The publication to be written is inconsistent (a path twice, or a signer that is not a published CA); nothing was written.',
  ),
  PUBLICATION_INVALID: invalid('The publication file does not verify against the trusted roots.'),
  PUBLICATION_ROOT_SIGNED: forbidden(
    'The publication (or an OCSP response in it) is signed by a root key directly; only keys the root certified for it may sign (BR 6.1.7, RFC 6960 4.2.2.2).',
  ),
  PUBLICATION_STALE: conflict('The publication is not newer than the one already imported.'),
  SERVE_FAILED: failed('A server worker could not start.'),
  STORE_CLOSED: unavailable('The online store was closed while it was being opened.'),
  STORE_FAILED: failed('The online store refused an operation.'),
  STORE_NOT_FOUND: unknown('No rootca database at the path given.'),
  STORE_TOO_NEW: conflict("The store's schema is newer than this rootca knows; use a newer rootca."),
  STORE_UNAVAILABLE: unavailable('The online store (PostgreSQL) cannot be reached.'),
  STORE_UNSUPPORTED: invalid('The store location is not sqlite:PATH or a postgres:// URL.'),
  SYSLOG_TARGET_INVALID: invalid('The --syslog collector is not tcp://HOST:PORT or tls://HOST:PORT.'),
  TRUST_ANCHOR_INVALID: invalid('A --trust file is not a root certificate.'),
  TRUST_ANCHOR_MISSING: conflict('The online store has no trust anchors yet: give --trust on the first import.'),
} as const;
