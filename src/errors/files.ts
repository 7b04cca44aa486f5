/** Errors about files the operator hands in or expects out: configuration, ceremony files, PEM/DER, outputs. */
import { conflict, invalid } from './entry.ts';

export const FILE_ERRORS = {
  CEREMONY_FILE_INVALID: invalid('The ceremony file is not valid YAML or breaks its schema; each problem is named by its dotted path.'),
  CEREMONY_FILE_UNREADABLE: invalid('The ceremony file cannot be read.'),
  CEREMONY_OUTPUT_EXISTS: conflict('A ceremony output file already exists; ceremonies never overwrite outputs.'),
  CONFIG_INVALID: invalid('The installation file rootca.yaml is not valid YAML or breaks its schema; each problem is named by its dotted path.'),
  OUTPUT_EXISTS: conflict('An output file already exists; nothing is overwritten.'),
  PEM_INVALID: invalid('The file is not the PEM block expected.'),
} as const;
