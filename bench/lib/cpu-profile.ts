// Reads a V8 .cpuprofile (node --cpu-prof) and tells where the time went: self time by
// function, inclusive time of the project's own functions, and self time by area (a
// project folder, a package, node's internals, GC). Idle time is left out of every share.
import { readFile } from 'node:fs/promises';
import { markdownTable } from './table.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled non-idle milliseconds. */
  busyMs: number;
  self: Array<{ fn: string; ms: number; share: number }>;
  inclusive: Array<{ fn: string; ms: number; share: number }>;
  areas: Array<{ area: string; ms: number; share: number }>;
}

/** `ownCode` picks the project's source files (by URL) whose inclusive time is listed. */
export async function summariseProfile(path: string, ownCode: RegExp, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; it is attributed to the node sampled.
  for (const [i, id] of profile.samples.entries()) {
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const isIdle = (n: ProfileNode) => n.callFrame.functionName === '(idle)';
  let busyUs = 0;
  for (const [id, us] of selfUs) if (!isIdle(byId.get(id)!)) busyUs += us;

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (isIdle(node)) continue;
    add(self, label(node), us);
    add(areas, area(node.callFrame.url, node.callFrame.functionName), us);
  }

  // Inclusive time per function, counted once per stack even when a function recurses.
  const inclusive = new Map<string, number>();
  const totalOf = new Map<number, number>();
  const total = (node: ProfileNode): number => {
    let us = isIdle(node) ? 0 : (selfUs.get(node.id) ?? 0);
    for (const c of node.children ?? []) us += total(byId.get(c)!);
    totalOf.set(node.id, us);
    return us;
  };
  const root = profile.nodes[0];
  total(root);
  const walk = (node: ProfileNode, onStack: Set<string>) => {
    const key = label(node);
    const own = ownCode.test(node.callFrame.url) && !onStack.has(key);
    if (own) add(inclusive, key, totalOf.get(node.id)!);
    const next = own ? new Set(onStack).add(key) : onStack;
    for (const c of node.children ?? []) walk(byId.get(c)!, next);
  };
  walk(root, new Set());

  const ranked = <K extends string>(m: Map<string, number>, name: K) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) =>
          ({ [name]: k, ms: Math.round(us / 100) / 10, share: Math.round((us / busyUs) * 1000) / 10 }) as Record<
            K,
            string
          > & { ms: number; share: number },
      );
  return {
    busyMs: Math.round(busyUs / 1000),
    self: ranked(self, 'fn'),
    inclusive: ranked(inclusive, 'fn'),
    areas: ranked(areas, 'area'),
  };
}

export function formatProfile(s: ProfileSummary): string {
  const rows = <T extends { ms: number; share: number }>(list: T[], name: (x: T) => string) =>
    list.map((x) => [name(x), x.ms, `${x.share}%`]);
  return [
    `busy (non-idle) time sampled: ${s.busyMs} ms`,
    '',
    markdownTable(
      ['self time: function', 'ms', 'share'],
      rows(s.self, (x) => x.fn),
    ),
    '',
    markdownTable(
      ['inclusive time: project function', 'ms', 'share'],
      rows(s.inclusive, (x) => x.fn),
    ),
    '',
    markdownTable(
      ['self time: area', 'ms', 'share'],
      rows(s.areas, (x) => x.area),
    ),
  ].join('\n');
}

function add(m: Map<string, number>, key: string, us: number): void {
  m.set(key, (m.get(key) ?? 0) + us);
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame;
  if (!url) return functionName || '(anonymous)';
  // tsx hands V8 one-line modules: the column is then what places the function.
  return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}:${columnNumber + 1}`;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const src = url.lastIndexOf('/src/');
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '');
}

/** A project folder (src/gateway), a package (undici), node's internals by module, or a V8 bucket. */
function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const src = /\/src\/([^/]+)\//.exec(url);
  return src ? `src/${src[1]}` : url;
}
