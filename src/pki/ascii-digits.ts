/**
 * Reading the ASCII digits of a time straight from bytes, and the calendar check that goes with
 * it: shared by the CRL list writer (ISO text from the store) and the raw CRL entry reader
 * (UTCTime and GeneralizedTime in a CRL), which both skip Date parsing for a million entries
 * (issue 17.5) and must refuse a date that Date would roll over (31 April, 29 February 2027).
 *
 * Pure: no clock, randomness, files or network.
 */

/** The number of the `n` ASCII digits at buf[i], or -1 when one is not a digit. */
export function digitsAt(buf: Uint8Array, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const d = buf[k]! - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * digitsAt(buf, i, 2) unrolled: the raw entry reader calls it seven times an entry, and the
 * loop form measured about 1.5x slower there.
 */
export function twoDigitsAt(buf: Uint8Array, i: number): number {
  const a = buf[i]! - 0x30;
  const b = buf[i + 1]! - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether `day` (from 1) is a day of `month` (1-12) in `year` of the Gregorian calendar. */
export function isDayOfMonth(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}
