/**
 * Turns zod issues into the one-line messages CONVENTIONS 4 asks for: the dotted path first
 * ("key.rsaModulusBits must be 2048 or 4096"), unknown keys named with where they are.
 */
import type { z } from 'zod';
import { CaError, type ErrorCode } from '../errors.ts';

export function formatConfigIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
      return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')} (not allowed: a typo here could silently change a ceremony)`;
    }
    return path ? `${path} ${issue.message}` : issue.message;
  });
}

/** Parses `data` with `schema` or throws CaError(code) listing every problem, prefixed with the file name. */
export function parseStrict<T extends z.ZodType>(
  schema: T,
  data: unknown,
  source: string,
  code: ErrorCode,
): z.output<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const lines = formatConfigIssues(result.error.issues);
  throw new CaError(
    code,
    `${source}: ${lines.length} problem${lines.length > 1 ? 's' : ''}:\n  - ${lines.join('\n  - ')}`,
    { details: { problems: lines } },
  );
}
