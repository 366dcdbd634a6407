// Go's time.ParseDuration syntax ("300ms", "1m30s", "1.5h"), which Kubernetes and Flux
// users write for every interval and timeout. Gateway and controllers parse the same
// strings with this function, so validation and use cannot disagree.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Milliseconds in a Go duration string; may be fractional (ns, us) or negative (leading
 * '-'). Throws a RangeError naming the value when it is not a Go duration. */
export function parseDuration(value: string): number {
  const ms = tryParseDuration(value);
  if (ms === undefined)
    throw new RangeError(
      `invalid duration ${JSON.stringify(value)}: expected a Go duration such as "30s", "1m30s" or "500ms"`,
    );
  return ms;
}

/** Like parseDuration but returns undefined for anything that is not a Go duration. */
export function tryParseDuration(value: string): number | undefined {
  let rest = value;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  // Go accepts a bare "0" and nothing else without a unit.
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** Whether `value` is a Go duration that is not negative: the only kind a spec accepts. */
export function isDuration(value: string): boolean {
  const ms = tryParseDuration(value);
  return ms !== undefined && ms >= 0;
}
