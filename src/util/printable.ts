/**
 * Text from a file, a CSR or a command line shown to an operator (issue 14 item 5): control
 * characters are escaped so a ceremony file's NUL, a CSR subject's newline or an ESC sequence
 * cannot rewrite what the terminal shows (RFC 5280 4.1.2.4 lets a DirectoryString hold them;
 * the operator must see that they are there, not be misled by them).
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** One line of untrusted text: every control character (and newline, tab) as an escape. */
export function printable(text: string): string {
  return text.replace(/[\n\t]/g, (c) => (c === '\n' ? '\\n' : '\\t')).replace(CONTROL, escapeOne);
}

/** A message of several lines the program wrote itself: newlines and tabs kept, other controls escaped. */
export function printableMessage(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

function escapeOne(c: string): string {
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
