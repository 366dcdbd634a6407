// Option values every command shares: parsers and defaults. Cheap to import (no logger, no client), as every
// command's options are declared at start, `--help` included.
import { InvalidArgumentError } from 'commander';
import { delimiter } from 'node:path';

/** The kubeconfig of a command run without --kubeconfig: $KUBECONFIG as kubectl reads it
 * (of a list, the first file: Gatehouse does not merge kubeconfigs), else the one
 * `gatehouse up` writes in its default data directory. */
export function defaultKubeconfig(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBECONFIG?.split(delimiter).find(Boolean) ?? '.gatehouse/kubeconfig';
}

/** A whole number, 0 or more (sizes, counts of files). */
export function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a whole number (0 or more)`);
  return n;
}

/** A whole number, 1 or more (a bound that must keep something). */
export function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a whole number (1 or more)`);
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`"${value}" is not a port number (0-65535)`);
  return n;
}
