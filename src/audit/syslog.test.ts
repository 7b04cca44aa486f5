/** R-7.1 (CPS 5.4.1, 5.4.6): lines of other systems' logs, read as syslog when they parse. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaError } from '../errors.ts';
import { MAX_LINE_BYTES, parseSyslogLine, readLogLines } from './syslog.ts';

describe('syslog lines (RFC 5424, RFC 3164)', () => {
  const cases: { name: string; line: string; want: Record<string, unknown> | undefined }[] = [
    {
      name: 'RFC 5424 6.5 example 1 (no structured data)',
      line: "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed for lonvick on /dev/pts/8",
      want: {
        format: 'rfc5424',
        facility: 4,
        severity: 2,
        timestamp: '2003-10-11T22:14:15.003Z',
        host: 'mymachine.example.com',
        app: 'su',
        procId: null,
        msgId: 'ID47',
        structuredData: null,
        message: "BOM'su root' failed for lonvick on /dev/pts/8",
      },
    },
    {
      name: 'RFC 5424 6.5 example 3 (structured data, escaped bracket in a value)',
      line: '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App\\]lication" eventID="1011"] An application event',
      want: {
        format: 'rfc5424',
        facility: 20,
        severity: 5,
        host: 'mymachine.example.com',
        app: 'evntslog',
        structuredData: '[exampleSDID@32473 iut="3" eventSource="App\\]lication" eventID="1011"]',
        message: 'An application event',
      },
    },
    {
      name: 'RFC 5424 with only structured data and no MSG',
      line: '<13>1 2026-11-25T09:00:00+09:00 door-ctl-1 access 811 ENTRY [badge@32473 id="0042" door="vault"]',
      want: {
        format: 'rfc5424',
        facility: 1,
        severity: 5,
        host: 'door-ctl-1',
        procId: '811',
        msgId: 'ENTRY',
        message: '',
      },
    },
    {
      name: 'RFC 3164 with PRI and a PID',
      line: '<86>Nov 25 09:12:01 core-sw1 sshd[4242]: Accepted publickey for netops from 10.0.0.5 port 50122',
      want: {
        format: 'rfc3164',
        facility: 10,
        severity: 6,
        timestamp: 'Nov 25 09:12:01',
        host: 'core-sw1',
        app: 'sshd',
        procId: '4242',
        message: 'Accepted publickey for netops from 10.0.0.5 port 50122',
      },
    },
    {
      name: 'RFC 3164 as a local daemon writes it to a file (no PRI, space-padded day)',
      line: 'Nov  5 07:00:00 fw01 kernel: DROP IN=eth0 SRC=203.0.113.9',
      want: {
        format: 'rfc3164',
        facility: null,
        severity: null,
        timestamp: 'Nov  5 07:00:00',
        host: 'fw01',
        app: 'kernel',
        procId: null,
        message: 'DROP IN=eth0 SRC=203.0.113.9',
      },
    },
    { name: 'a PRI above 191', line: '<192>1 2003-10-11T22:14:15.003Z h a - - - x', want: undefined },
    { name: 'a bad RFC 5424 timestamp', line: '<34>1 yesterday host app - - - msg', want: undefined },
    { name: 'an unterminated SD-ELEMENT', line: '<34>1 2003-10-11T22:14:15Z h a - - [id x="1" msg', want: undefined },
    { name: 'a room-access CSV line', line: '2026-11-25 09:00:01,door 3,badge 0042,granted', want: undefined },
  ];
  for (const c of cases) {
    it(`${c.want ? 'parses' : 'keeps raw'}: ${c.name}`, () => {
      const got = parseSyslogLine(c.line);
      if (!c.want) return assert.equal(got, undefined);
      assert.ok(got, 'parsed');
      for (const [k, v] of Object.entries(c.want))
        assert.deepEqual((got as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  it('splits LF and CRLF lines, skips empty ones, numbers them as in the file', () => {
    const lines = readLogLines(
      Buffer.from('first raw line\r\n\r\n   \n<13>Nov 25 09:00:00 h app: m\nlast without newline'),
    );
    assert.deepEqual(
      lines.map((l) => [l.number, l.line, l.parsed?.format ?? null]),
      [
        [1, 'first raw line', null],
        [4, '<13>Nov 25 09:00:00 h app: m', 'rfc3164'],
        [5, 'last without newline', null],
      ],
    );
  });

  const refused = (data: Buffer, lines: number[], message: RegExp) =>
    assert.throws(
      () => readLogLines(data),
      (e: unknown) => {
        assert.ok(e instanceof CaError);
        assert.equal(e.code, 'LOG_INPUT_MALFORMED');
        assert.deepEqual(e.details.lines, lines);
        assert.match(e.message, message);
        return true;
      },
    );
  it('refuses NUL bytes, invalid UTF-8, control characters and lines over 8 KiB, naming every line', () => {
    refused(
      Buffer.concat([
        Buffer.from('ok\nbad\0line\nok\n'),
        Buffer.from([0xff, 0xfe, 0x0a]),
        Buffer.from('esc \x1b[2J\n'),
        Buffer.from(`${'x'.repeat(MAX_LINE_BYTES + 1)}\n`),
      ]),
      [2, 4, 5, 6],
      /line 2 contains a NUL byte.*line 4 is not valid UTF-8.*line 5 contains control characters.*line 6 longer than 8192 bytes.*nothing was ingested/,
    );
    assert.equal(readLogLines(Buffer.from(`${'x'.repeat(MAX_LINE_BYTES)}\n`)).length, 1, 'exactly 8 KiB is accepted');
  });
  it('refuses a binary file', () => {
    refused(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), [1], /NUL/);
  });
});
