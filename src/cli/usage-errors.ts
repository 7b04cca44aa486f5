/**
 * Commander's own parse errors as catalogue codes, so a script can tell an unknown option from
 * a missing argument by `[CODE]` instead of by prose (issue 20.2). Commander has already
 * printed its message and the help; this adds the stable line and returns the exit code.
 */
import type { CommanderError } from 'commander';
import type { UsageErrorCode } from '../errors.ts';

const COMMANDER_CODES: Record<string, UsageErrorCode> = {
  'commander.unknownCommand': 'UNKNOWN_COMMAND',
  'commander.unknownOption': 'UNKNOWN_OPTION',
  'commander.missingArgument': 'ARGUMENT_MISSING',
  'commander.excessArguments': 'TOO_MANY_ARGUMENTS',
  'commander.optionMissingArgument': 'OPTION_VALUE_MISSING',
  'commander.missingMandatoryOptionValue': 'OPTION_REQUIRED',
  'commander.conflictingOption': 'OPTIONS_CONFLICT',
  'commander.invalidArgument': 'ARGUMENT_INVALID',
};

/** The catalogue code for a commander error code. */
export function usageCodeOf(commanderCode: string): UsageErrorCode {
  return COMMANDER_CODES[commanderCode] ?? 'USAGE';
}

/** 0 for --help and --version; else prints `rootca: <message> [CODE]` and returns 2. */
export function reportCommanderError(e: CommanderError): number {
  if (e.exitCode === 0) return 0;
  const message = e.message.replace(/^error: /, '');
  process.stderr.write(`rootca: ${message} [${usageCodeOf(e.code)}]\n`);
  return 2;
}
