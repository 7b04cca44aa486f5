/**
 * Issue 17.5: RevokedListWriter.addText writes an entry from the stored text of its fields. It
 * must write what add writes for the same serial and `new Date(text)`, or write nothing and say
 * so, whatever the text: these tests try the usual forms and every near miss.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevokedListWriter } from './crl-list-writer.ts';

const EXTS = [Buffer.from('300a0603551d1504030a0104', 'hex')];

/** addText's entry, or undefined when it declines; then add must give the same bytes for what it took. */
function viaText(serial: string, time: string): Buffer | undefined {
  const text = Buffer.from(`#${serial}|${time}#`, 'latin1');
  const list = new RevokedListWriter();
  const s = 1;
  const t = s + serial.length + 1;
  if (!list.addText(text, s, s + serial.length, t, t + time.length, EXTS)) {
    assert.equal(list.count, 0);
    assert.equal(list.finish(), undefined);
    return undefined;
  }
  assert.equal(list.count, 1);
  const written = Buffer.from(list.finish()!);
  const reference = new RevokedListWriter();
  reference.add({ serialHex: serial, revocationDate: new Date(time), extensions: EXTS });
  assert.equal(written.toString('hex'), reference.finish()!.toString('hex'), `${serial} ${time}`);
  return written;
}

describe('issue 17.5 RevokedListWriter.addText', () => {
  it('writes the usual serials and times as add does', () => {
    for (const serial of ['01', '7f', '0a', '4000000001', '7fffffffffffffffffffffffffffffffffffffff', '1'.repeat(300)])
      for (const time of [
        '2026-06-01T00:00:01.000Z',
        '2026-06-01T00:00:01.999Z',
        '1950-01-01T00:00:00.000Z',
        '2049-12-31T23:59:59.999Z',
        '2050-01-01T00:00:00.000Z',
        '9999-12-31T23:59:59.000Z',
        '2024-02-29T12:00:00.000Z',
        '2000-02-29T12:00:00.000Z',
      ])
        assert.ok(viaText(serial, time), `${serial} ${time}`);
  });

  it('declines anything else, so that add decides', () => {
    const time = '2026-06-01T00:00:01.000Z';
    for (const serial of [
      '',
      '0',
      '00',
      '00ff',
      '80',
      'ff',
      'AB',
      '0A',
      '0x01',
      '01:02',
      '012',
      ' 01',
      '01 ',
      'g1',
      '1g',
    ])
      assert.equal(viaText(serial, time), undefined, serial);
    for (const t of [
      '1949-12-31T23:59:59.000Z',
      '0000-01-01T00:00:00.000Z',
      '+010000-01-01T00:00:00.000Z',
      '2025-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-00-01T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T00:60:00.000Z',
      '2026-01-01T00:00:60.000Z',
      '2026-01-01T00:00:00.00Z',
      '2026-01-01T00:00:00.0000Z',
      '2026-01-01T00:00:00.00aZ',
      '2026-01-01T00:00:00.000+',
      '2026-01-01 00:00:00.000Z',
      '2026-01-01t00:00:00.000Z',
      '2026/01/01T00:00:00.000Z',
      '2026-01-01T00:00:00Z',
      '2026-01-01T00:00:00.000+00:00',
      '2026-1-01T00:00:00.000Z ',
    ])
      assert.equal(viaText('01', t), undefined, t);
  });

  it('keeps to add for every one-character change of the usual text', () => {
    const serial = '4000000001';
    const time = '2031-07-15T09:08:07.654Z';
    let taken = 0;
    for (const [s, t] of [
      [serial, time],
      ['7f', '2050-01-31T23:59:59.000Z'],
    ] as const)
      for (const which of [0, 1])
        for (let i = 0; i < (which ? t.length : s.length); i++)
          for (const c of '0159:-.TZAaf+ \u00ff') {
            const edit = (x: string) => x.slice(0, i) + c + x.slice(i + 1);
            const [a, b] = which ? [s, edit(t)] : [edit(s), t];
            // add refuses an invalid date: addText must then decline (it never writes one).
            if (Number.isNaN(new Date(b).getTime())) assert.equal(viaText(a, b), undefined, `${a} ${b}`);
            else if (viaText(a, b)) taken++;
          }
    assert.ok(taken > 100, `${taken} taken`);
  });
});
