/**
 * Usage errors (exit 2): the command line is wrong, nothing was attempted. The first group
 * names the parser's own errors (commander), the rest those rootca's commands find.
 */
import { usage } from './entry.ts';

export const USAGE_ERRORS = {
  ARGUMENT_INVALID: usage('An argument or option value was refused by its parser; the message says why.'),
  ARGUMENT_MISSING: usage('A required argument is missing.'),
  CREDENTIAL_OPTION_INVALID: usage(
    'A --credential (or passphrase option) is not NAME=@FILE or NAME=env:VAR, or names someone twice.',
  ),
  CREDENTIAL_UNAVAILABLE: usage(
    'A passphrase was asked for but its file cannot be read, its variable is not set, or there is no terminal to prompt on.',
  ),
  INPUT_UNREADABLE: usage('An input file named on the command line cannot be read.'),
  OPTION_REQUIRED: usage('An option this command needs in this form is missing.'),
  OPTION_VALUE_INVALID: usage('An option value is out of range or not in the expected form.'),
  OPTION_VALUE_MISSING: usage('An option was given without its value.'),
  OPTIONS_CONFLICT: usage('Options were combined that do not go together, or exactly one of a pair is needed.'),
  PASSPHRASES_DIFFER: usage('The new passphrase and its repetition differ.'),
  PERSONNEL_AUTHORISATION_REQUIRED: usage(
    'Personnel changes need --by (person-responsible) and --witness (operation-manager), CPS 5.2.1/5.2.2.',
  ),
  SELECTION_NOT_FOUND: usage('What --pem selects is not in the list the command shows.'),
  TOO_MANY_ARGUMENTS: usage('More arguments than the command takes.'),
  UNKNOWN_COMMAND: usage('No such command; `rootca --help` lists them.'),
  UNKNOWN_OPTION: usage('No such option for this command; `--help` lists them.'),
  USAGE: usage('Another command-line problem the parser reports; the message says which.'),
} as const;
