/**
 * Lines from other systems' logs (room access, network devices: CPS 5.4.1, 5.4.6) read as
 * syslog when they parse: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) or the
 * BSD format RFC 3164 describes (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, the PRI sometimes
 * left out by files written by a local daemon). A line that does not parse is kept raw.
 * Pure: no clock (an RFC 3164 timestamp has no year and is kept as written).
 */
import { CaError } from '../errors.ts';

export interface SyslogMessage {
  format: 'rfc5424' | 'rfc3164';
  /** RFC 5424 6.2.1: PRI = facility * 8 + severity; null when the line had no PRI. */
  facility: number | null;
  severity: number | null;
  /** As written (RFC 3164 has no year or zone); null for the NILVALUE "-". */
  timestamp: string | null;
  host: string | null;
  app: string | null;
  procId: string | null;
  msgId?: string | null;
  /** RFC 5424 STRUCTURED-DATA as written, when present. */
  structuredData?: string | null;
  message: string;
}

/** The longest line accepted (bytes, without the line end). */
export const MAX_LINE_BYTES = 8 * 1024;

const nil = (v: string): string | null => (v === '-' ? null : v);

function pri(text: string | undefined): { facility: number | null; severity: number | null } | undefined {
  if (text === undefined) return { facility: null, severity: null };
  const n = Number(text);
  // RFC 5424 6.2.1: "The Priority value ... range of 0 to 191"; no leading zeros except "0".
  if (!Number.isInteger(n) || n > 191 || (text.length > 1 && text.startsWith('0'))) return undefined;
  return { facility: Math.floor(n / 8), severity: n % 8 };
}

/** RFC 5424 6.3: "-" or one or more SD-ELEMENTs; returns the index after it, or -1. */
function structuredDataEnd(s: string, i: number): number {
  if (s[i] === '-') return i + 1;
  if (s[i] !== '[') return -1;
  while (s[i] === '[') {
    i++;
    let inValue = false;
    for (;;) {
      if (i >= s.length) return -1;
      const c = s[i];
      if (inValue) {
        // PARAM-VALUE: '"', '\' and ']' MUST be escaped with '\'.
        if (c === '\\') i += 2;
        else {
          if (c === '"') inValue = false;
          i++;
        }
      } else if (c === '"') {
        inValue = true;
        i++;
      } else if (c === ']') {
        i++;
        break;
      } else i++;
    }
  }
  return i;
}

const RFC5424_HEAD = /^<(\d{1,3})>([1-9]\d?) (\S+) (\S+) (\S+) (\S+) (\S+) /;
// RFC 5424 6.2.3: FULL-DATE "T" FULL-TIME, or the NILVALUE.
const RFC5424_TIME = /^(-|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2}))$/;
const RFC3164 =
  /^(?:<(\d{1,3})>)?((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d{2}:\d{2}:\d{2}) (\S+) ([^\s:[\]]{1,48})(?:\[([^\]\s]{1,32})\])?: ?(.*)$/;

/** Parses one line as syslog; undefined when it is neither RFC 5424 nor RFC 3164. */
export function parseSyslogLine(line: string): SyslogMessage | undefined {
  const a = RFC5424_HEAD.exec(line);
  if (a && RFC5424_TIME.test(a[3])) {
    const p = pri(a[1]);
    const sdStart = a[0].length;
    const sdEnd = structuredDataEnd(line, sdStart);
    if (p && sdEnd > 0 && (sdEnd === line.length || line[sdEnd] === ' ')) {
      let message = line.slice(sdEnd + 1);
      if (message.startsWith('\uFEFF')) message = message.slice(1); // RFC 5424 6.4: BOM before UTF-8 MSG
      return {
        format: 'rfc5424',
        ...p,
        timestamp: nil(a[3]),
        host: nil(a[4]),
        app: nil(a[5]),
        procId: nil(a[6]),
        msgId: nil(a[7]),
        structuredData: nil(line.slice(sdStart, sdEnd)),
        message,
      };
    }
  }
  const b = RFC3164.exec(line);
  if (b) {
    const p = pri(b[1]);
    if (p)
      return { format: 'rfc3164', ...p, timestamp: b[2], host: b[3], app: b[4], procId: b[5] ?? null, message: b[6] };
  }
  return undefined;
}

export interface LogLine {
  /** 1-based line number in the file. */
  number: number;
  line: string;
  parsed: SyslogMessage | null;
}

/**
 * Splits a log file into its non-empty lines (LF or CRLF), each parsed as syslog when it
 * parses. The whole file is refused (LOG_INPUT_MALFORMED, naming the line numbers) when it
 * is not text: invalid UTF-8, NUL or other control characters, or a line over 8 KiB.
 */
export function readLogLines(data: Uint8Array): LogLine[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const problems: { line: number; problem: string }[] = [];
  const out: LogLine[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  let number = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    number++;
    let raw = buf.subarray(start, end);
    start = end + 1;
    if (raw.length > 0 && raw[raw.length - 1] === 0x0d) raw = raw.subarray(0, raw.length - 1);
    if (raw.length > MAX_LINE_BYTES) {
      problems.push({ line: number, problem: `longer than ${MAX_LINE_BYTES} bytes (${raw.length})` });
      continue;
    }
    if (raw.includes(0)) {
      problems.push({ line: number, problem: 'contains a NUL byte (binary data, not a log line)' });
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(raw);
    } catch {
      problems.push({ line: number, problem: 'is not valid UTF-8 (binary data, not a log line)' });
      continue;
    }
    // C0 controls other than TAB, and DEL: binary, or terminal escapes that would hide text from a reader.
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(text)) {
      problems.push({ line: number, problem: 'contains control characters (binary data or terminal escapes)' });
      continue;
    }
    if (text.trim() === '') continue;
    out.push({ number, line: text, parsed: parseSyslogLine(text) ?? null });
  }
  if (problems.length) {
    const shown = problems
      .slice(0, 10)
      .map((p) => `line ${p.line} ${p.problem}`)
      .join('; ');
    const more = problems.length > 10 ? `; and ${problems.length - 10} more` : '';
    throw new CaError(
      'LOG_INPUT_MALFORMED',
      `refused: ${problems.length} malformed line${problems.length > 1 ? 's' : ''} (${shown}${more}); nothing was ingested`,
      {
        details: { lines: problems.map((p) => p.line), problems: problems.slice(0, 100) },
      },
    );
  }
  return out;
}
