/**
 * The OCSP bench's table: one row per side of each comparison, the ratio and verdict on our
 * row, every round's numbers and the load average in the notes below it.
 */

/** One line of the table. */
export interface Row {
  test: string;
  side: string;
  reqPerSec?: number;
  p50ms?: number;
  p99ms?: number;
  cpuUsPerReq?: number;
  /** ours / the peer (what is divided by what: ratioOf). */
  ratio?: number;
  ratioOf?: string;
  target?: string;
  /** NOT JUDGED: run, but its peer was not; ERRORS: the load tool saw failures. */
  verdict?: 'MET' | 'NOT MET' | 'SKIPPED' | 'NOT JUDGED' | 'ERRORS';
  note?: string;
  command?: string;
}

const fmt = (x: number | undefined, d: number) => (x === undefined ? '-' : x.toFixed(d));

/** The table and the notes of each row, as printed. */
export function renderTable(title: string, rows: Row[], notes: string[]): string {
  const head = ['test', 'side', 'req/s', 'p50 ms', 'p99 ms', 'CPU us/req', 'ratio', 'target', 'verdict'];
  const body = rows.map((r) => [
    r.test,
    r.side,
    fmt(r.reqPerSec, 0),
    fmt(r.p50ms, 2),
    fmt(r.p99ms, 2),
    fmt(r.cpuUsPerReq, 1),
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
    r.target ?? '-',
    r.verdict ?? '-',
  ]);
  const numeric = new Set([2, 3, 4, 5, 6]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [`\n${title}\n`, line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  const withNotes = rows.filter((r) => r.note || r.ratioOf);
  if (withNotes.length) {
    out.push('\nper row:');
    for (const r of withNotes)
      out.push(
        `  ${r.test} / ${r.side}: ${[r.ratioOf ? `ratio = ${r.ratioOf}` : '', r.note ?? ''].filter(Boolean).join('; ')}`,
      );
  }
  if (notes.length) out.push('\nnotes:', ...notes.map((n) => `  - ${n}`));
  return `${out.join('\n')}\n`;
}

/** The median of some numbers (the upper one of an even count). */
export const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** Rounded to 2 decimals. */
export const r2 = (x: number | undefined) => (x === undefined ? undefined : Math.round(x * 100) / 100);
