// What Linux's /proc says about a process and its descendants (nginx's workers, a
// node:cluster's workers): CPU time used (utime + stime, all threads, proc(5)) and peak
// resident memory (VmHWM); and how busy one core was. Only processes alive at the time of
// reading are counted, so read CPU before and after a load run while the tree is stable.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = clockTicks();

interface Stat {
  ppid: number;
  /** utime + stime in clock ticks. */
  ticks: number;
}

/** CPU seconds used so far by `pid` and every process below it. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) ticks += readStat(p)?.ticks ?? 0;
  return ticks / CLOCK_TICKS;
}

/** Sum of peak resident set sizes of `pid` and every process below it, in bytes. */
export function peakRssBytes(pid: number): number {
  let kib = 0;
  for (const p of tree(pid)) {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readOrEmpty(`/proc/${p}/status`));
    if (m) kib += Number(m[1]);
  }
  return kib * 1024;
}

/** Seconds core `core` was not idle (user, nice, system, irq, softirq, and steal: time the
 * hypervisor gave to someone else), from /proc/stat. */
export function coreBusySeconds(core: number): number {
  const line = readOrEmpty('/proc/stat')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  if (!line) return NaN;
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + (steal || 0)) / CLOCK_TICKS;
}

function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const out: number[] = [];
  for (const queue = [root]; queue.length; ) {
    const pid = queue.pop()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function readStat(pid: number): Stat | undefined {
  const text = readOrEmpty(`/proc/${pid}/stat`);
  // The command name (field 2) is in parentheses and may contain spaces and ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields.length < 13) return undefined;
  // After the name: state(3) ppid(4) … utime(14) stime(15), numbered as in proc(5).
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // The process is gone (or /proc is not Linux's): it adds nothing.
    return '';
  }
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
