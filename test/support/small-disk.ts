// A small disk that fills for real: a tmpfs of a few MiB mounted in a mount namespace of its
// own, held by a process that lives as long as the test's stdin pipe to it. Processes run in
// that namespace see the tmpfs and get ENOSPC from the kernel when it is full; the test
// reaches its files through /proc/<holder>/root. Needs root (CAP_SYS_ADMIN) and util-linux
// (unshare, nsenter), as on CI. Nothing is mounted where the rest of the machine sees it, and
// the tmpfs goes away with the last process in the namespace.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SmallDisk {
  /** Where the disk is mounted, as processes in its namespace see it. */
  dir: string;
  /** The same directory as this process sees it. */
  outside: string;
  /** The command that runs `argv` inside the namespace, in this process's working directory
   * (optionally as another user). */
  command(argv: string[], user?: { uid: number; gid: number }): [string, string[]];
  spawn(argv: string[], options?: SpawnOptions): ChildProcess;
  /** Takes all but `leaveBytes` of the free space with a filler file. */
  fill(leaveBytes: number): Promise<void>;
  /** Removes the filler file. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

const FILLER = '.filler';

/** Mounts a tmpfs of `sizeMiB` at `dir` (which must exist) in a new mount namespace. */
export async function makeSmallDisk(dir: string, sizeMiB: number): Promise<SmallDisk> {
  const holder = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount -t tmpfs -o size=${sizeMiB}m,mode=0755 tmpfs "$0" && echo mounted && exec cat >/dev/null`,
      dir,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  holder.stdout?.on('data', (d: Buffer) => void (output += d.toString()));
  holder.stderr?.on('data', (d: Buffer) => void (output += d.toString()));
  const exited = once(holder, 'exit');
  await Promise.race([
    once(holder.stdout!, 'data'),
    exited.then(() => {
      throw new Error(`cannot mount a tmpfs in a new mount namespace: ${output}`);
    }),
  ]);
  const outside = join(`/proc/${holder.pid}/root`, dir);
  const namespace = `--mount=/proc/${holder.pid}/ns/mnt`;
  const command = (argv: string[], user?: { uid: number; gid: number }): [string, string[]] => [
    'nsenter',
    [
      namespace,
      `--wd=${process.cwd()}`,
      ...(user ? [`--setuid=${user.uid}`, `--setgid=${user.gid}`] : []),
      '--',
      ...argv,
    ],
  ];
  return {
    dir,
    outside,
    command,
    spawn: (argv, options = {}) => spawn(...command(argv), options),
    async fill(leaveBytes) {
      const { bavail, bsize } = await statfs(outside);
      await writeFile(join(outside, FILLER), Buffer.alloc(Math.max(0, bavail * bsize - leaveBytes)));
    },
    async free() {
      await rm(join(outside, FILLER), { force: true });
    },
    async unmount() {
      holder.stdin?.end();
      await exited;
    },
  };
}
