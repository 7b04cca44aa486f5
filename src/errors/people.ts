/** Errors about people: roles, fitness, authentication and credentials (CPS 5.2, 5.3). */
import { conflict, failed, forbidden, invalid, unknown } from './entry.ts';

export const PEOPLE_ERRORS = {
  AUTHENTICATION_REQUIRED: forbidden(
    'A participant named for the operation did not authenticate with their passphrase.',
  ),
  BACKGROUND_CHECK_EXPIRED: forbidden(
    "The person's background check is older than the installation allows (CPS 5.3.2); record a new one.",
  ),
  BACKGROUND_CHECK_MISSING: forbidden('The person has no background check recorded (CPS 5.3.2).'),
  CREDENTIAL_CORRUPT: failed("An operator's stored credential cannot be read; restore the installation from a backup."),
  CREDENTIAL_LOCKED: failed(
    'An unlocked credential was used after it was locked again (a bug, or a share used twice).',
  ),
  CREDENTIAL_MISMATCH: failed("An operator's credential does not match the public key registered for them."),
  DATE_INVALID: invalid('A date is not YYYY-MM-DD (or a date-time where one is allowed), or a range runs backwards.'),
  OPERATOR_ABSENT: forbidden('The CA Administrator running the operation did not authenticate.'),
  OPERATOR_EXISTS: conflict('An operator with that name already exists.'),
  OPERATOR_NAME_INVALID: invalid(
    'Operator names are lower case letters, digits, `.`, `_` and `-`, starting with a letter.',
  ),
  OPERATOR_NOT_HOLDER: forbidden('The operator must be one of the holders of the key the operation makes.'),
  OPERATOR_REMOVED: forbidden('The person was removed and can no longer act or hold a share.'),
  OPERATOR_UNKNOWN: unknown('No operator with that name is registered.'),
  ROLE_ALREADY_HELD: conflict('The person already holds that role.'),
  ROLE_COMBINATION_FORBIDDEN: forbidden('One person cannot hold both roles (CPS 5.2.4 separation of duties).'),
  ROLE_MISSING: forbidden('The person lacks the role this part of the operation needs (CPS 5.2.1).'),
  ROLE_NOT_HELD: conflict('The person does not hold the role to be removed.'),
  ROLE_UNKNOWN: unknown('No such role; the message lists the roles.'),
  SAME_PERSON_TWICE: forbidden(
    'One person was named in two parts that must be different people (for example witness and custodian).',
  ),
  SELF_CHANGE_REFUSED: forbidden('Nobody authorises or witnesses a change to their own record (CPS 5.2.4).'),
  TRAINING_EXPIRED: forbidden(
    "The person's training is older than the installation allows; retraining is due (CPS 5.3.4).",
  ),
  TRAINING_MISSING: forbidden('The person has no training recorded (CPS 5.3.3).'),
  WEAK_PASSPHRASE: invalid('The new passphrase is too short or too guessable.'),
  WITNESS_ABSENT: forbidden('The witness named for the operation did not authenticate (CPS 5.2.2).'),
  WITNESS_ROLE_MISSING: forbidden('The witness does not hold the operation-manager role (CPS 6.1.1).'),
  WRONG_PASSPHRASE: forbidden(
    'The passphrase does not open the credential or sealed secret (or the sealed data was altered).',
  ),
} as const;
