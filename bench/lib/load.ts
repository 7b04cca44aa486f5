/**
 * The load tool of the OCSP benches: wrk (keep-alive, fixed connections and duration,
 * --latency), optionally with a Lua script (POST bodies, a fresh nonce per request), and the
 * server's CPU time per request from /proc (its whole process group: every worker).
 */
import { writeFileSync } from 'node:fs';
import { groupCpuTicks, runTool } from './processes.ts';

/** wrk's threads and connections, the same for every side of every comparison. */
export const WRK = { threads: 2, connections: 32 };

/** What one wrk run measured. */
export interface Load {
  reqPerSec: number;
  p50ms?: number;
  p99ms?: number;
  errors: Record<string, number>;
  requests?: number;
  /** The server's CPU time (all its processes) per request, µs. */
  cpuUsPerReq?: number;
  /** The 1-minute load average when the run started. */
  loadAvg?: number;
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  const scale: Record<string, number> = { us: 1 / 1000, ms: 1, s: 1000, m: 60_000 };
  if (scale[unit] === undefined) throw new Error(`unknown wrk time unit ${unit}`);
  return v * scale[unit]!;
}

/** wrk's summary: req/s, p50/p99 (--latency), request count and errors. */
export function parseWrk(out: string): Load {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${out}`);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1]!, m[2]!) : undefined;
  };
  const errors: Record<string, number> = {};
  const non = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non) errors.non2xx = Number(non[1]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock)
    Object.assign(errors, {
      connect: Number(sock[1]),
      read: Number(sock[2]),
      write: Number(sock[3]),
      timeout: Number(sock[4]),
    });
  const total = /(\d+) requests in/.exec(out);
  return {
    reqPerSec: Number(rps[1]),
    p50ms: pct('50'),
    p99ms: pct('99'),
    errors,
    requests: total ? Number(total[1]) : undefined,
  };
}

/** Errors that mean a run did not measure what it claims. */
export function errorCount(l: Load): number {
  return Object.values(l.errors).reduce((n, v) => n + v, 0);
}

/** wrk against `url` for `seconds`; with `pgid`, the server's CPU time per request too. */
export async function wrk(url: string, seconds: number, o: { pgid?: number; script?: string } = {}): Promise<Load> {
  const args = [`-t${WRK.threads}`, `-c${WRK.connections}`, `-d${seconds}s`, '--latency'];
  if (o.script) args.push('-s', o.script);
  args.push(url);
  const loadAvg = Number((await import('node:os')).loadavg()[0]!.toFixed(2));
  const before = o.pgid ? groupCpuTicks(o.pgid) : 0;
  const r = await runTool('wrk', args, { timeoutMs: (seconds + 30) * 1000 });
  if (r.code !== 0 || r.timedOut)
    throw new Error(`wrk ${args.join(' ')} ${r.timedOut ? 'timed out' : `exited ${r.code}`}:\n${r.stderr}${r.stdout}`);
  const load = { ...parseWrk(r.stdout), loadAvg };
  if (o.pgid && load.requests) load.cpuUsPerReq = ((groupCpuTicks(o.pgid) - before) * 10_000) / load.requests;
  return load;
}

/** A wrk script that POSTs the bytes of `bodyFile` as an OCSP request on every request. */
export function postScript(path: string, bodyFile: string): string {
  writeFileSync(
    path,
    `-- bench: POST the same OCSP request (a pre-signed answer) on kept-alive connections.
local f = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
`,
  );
  return path;
}

/**
 * A wrk script that POSTs the OCSP request of `bodyFile` with its last `nonceBytes` bytes (the
 * nonce, which OpenSSL puts last) replaced by fresh random bytes on every request: every answer
 * is signed live, none repeats.
 */
export function nonceScript(path: string, bodyFile: string, nonceBytes: number): string {
  writeFileSync(
    path,
    `-- bench: a distinct nonce on every request, on kept-alive connections.
local f = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))
local der = f:read("*a")
f:close()
local prefix = der:sub(1, #der - ${nonceBytes})
local headers = { ["Content-Type"] = "application/ocsp-request" }
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end
request = function()
  local t = {}
  for i = 1, ${nonceBytes} do t[i] = string.char(math.random(0, 255)) end
  return wrk.format("POST", "/ocsp", headers, prefix .. table.concat(t))
end
`,
  );
  return path;
}
