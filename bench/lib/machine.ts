// What a benchmark report says about the machine it ran on, and a look at how busy the
// machine is: on shared 2-core machines a figure means little without them.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { round } from './stats.ts';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  node: string;
  kernel: string;
  loadAverageAtStart: number[];
}

export function machineInfo(): MachineInfo {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: the model stays unknown
  }
  return {
    nproc: cpus().length,
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    node: process.version,
    kernel: release(),
    loadAverageAtStart: loadAverage(),
  };
}

/** The 1, 5 and 15 minute load averages, rounded. */
export function loadAverage(): number[] {
  return loadavg().map((l) => round(l));
}
