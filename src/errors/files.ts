/** Errors about files the operator hands in or expects out: configuration, ceremony files, PEM/DER, outputs. */
import { conflict, failed, invalid, unknown } from './entry.ts';

export const FILE_ERRORS = {
  CEREMONY_FILE_INVALID: invalid(
    'The ceremony file is not valid YAML or breaks its schema; each problem is named by its dotted path.',
  ),
  CEREMONY_FILE_UNREADABLE: invalid('The ceremony file cannot be read.'),
  CEREMONY_OUTPUT_EXISTS: conflict('A ceremony output file already exists; ceremonies never overwrite outputs.'),
  CONFIG_INVALID: invalid(
    'The installation file rootca.yaml is not valid YAML or breaks its schema; each problem is named by its dotted path.',
  ),
  OUTPUT_CONFLICT: conflict(
    "Another file took an output's name while the operation ran; it was left alone and the output waits as NAME.partial (rootca ceremony resume).",
  ),
  OUTPUT_DIR_MISSING: invalid(
    'The folder of an output file does not exist; create it first (checked before anyone authenticates).',
  ),
  OUTPUT_DIR_NOT_WRITABLE: invalid(
    'The folder of an output file is not writable by this user (checked before anyone authenticates).',
  ),
  OUTPUT_EXISTS: conflict('An output file already exists; nothing is overwritten.'),
  OUTPUT_NAMES_CLASH: invalid('Two outputs of one operation name the same file.'),
  OUTPUT_OUTSIDE_DIR: invalid("A ceremony file's output is outside its --out-dir (an absolute path or ..)."),
  OUTPUT_PARTIAL_CHANGED: failed(
    'The NAME.partial of a committed output is not what the operation wrote; it was not renamed.',
  ),
  OUTPUT_PARTIAL_MISSING: unknown(
    'The NAME.partial of a committed output is gone and the store cannot write it again.',
  ),
  OUTPUT_SOURCE_CHANGED: failed('The stored bytes for an output do not have the digest the ceremony recorded.'),
  OUTPUT_SOURCE_MISSING: unknown('The store no longer holds the bytes of a recorded output.'),
  PEM_INVALID: invalid('The file is not the PEM block expected.'),
} as const;
