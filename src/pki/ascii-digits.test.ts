import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digitsAt, isDayOfMonth, twoDigitsAt } from './ascii-digits.ts';

describe('ascii-digits: the digits and the calendar of a time read from bytes', () => {
  it('reads digits, and -1 when any byte is not one', () => {
    const b = Buffer.from('20261203x9');
    assert.equal(digitsAt(b, 0, 4), 2026);
    assert.equal(digitsAt(b, 4, 2), 12);
    assert.equal(digitsAt(b, 6, 3), -1);
    for (let i = 0; i < 9; i++) assert.equal(twoDigitsAt(b, i), digitsAt(b, i, 2), `at ${i}`);
    assert.equal(twoDigitsAt(Buffer.from('/0'), 0), -1); // 0x2f, just below '0'
    assert.equal(twoDigitsAt(Buffer.from('0:'), 0), -1); // 0x3a, just above '9'
  });

  it('knows the length of each month and the Gregorian leap years', () => {
    assert.equal(isDayOfMonth(2026, 4, 30), true);
    assert.equal(isDayOfMonth(2026, 4, 31), false);
    assert.equal(isDayOfMonth(2026, 12, 31), true);
    assert.equal(isDayOfMonth(2027, 2, 29), false);
    assert.equal(isDayOfMonth(2024, 2, 29), true);
    assert.equal(isDayOfMonth(2000, 2, 29), true);
    assert.equal(isDayOfMonth(1900, 2, 29), false);
    assert.equal(isDayOfMonth(2026, 0, 1), false);
    assert.equal(isDayOfMonth(2026, 13, 1), false);
    assert.equal(isDayOfMonth(2026, 1, 0), false);
    assert.equal(isDayOfMonth(2026, -1, 5), false); // digitsAt's -1 for a month that was not digits
  });
});
