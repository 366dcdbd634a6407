// kube-apiserver's --token-file: static bearer tokens, one `token,user,uid,"group1,group2"` CSV line each.
// kube-apiserver reads the file once; Gatehouse reads it again when it changes, so replicas behind a load
// balancer take a token added or revoked on their shared file without a restart.
import { readFile, stat } from 'node:fs/promises';
import type { TokenAuthenticator, UserInfo } from './auth.ts';

/** Parses one CSV line with double-quoted fields (the token file's fourth column). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}

export function parseTokenFile(text: string, source: string): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    const [token, name, uid, groups] = csvFields(line);
    if (!token || !name || !uid) throw new Error(`${source}:${index + 1}: a token line needs at least token,user,uid`);
    tokens.set(token, {
      name,
      uid,
      groups: groups
        ? groups
            .split(',')
            .map((g) => g.trim())
            .filter(Boolean)
        : [],
    });
  });
  return tokens;
}

export interface TokenFileReload {
  /** Ends the checks for changes. */
  signal: AbortSignal;
  /** How often the file's inode, size and modification time are compared. Default 1 s. */
  checkEveryMs?: number;
  /** A change that could not be read or parsed; the tokens last read stay in force, so a file caught half
   * written, or one with a typo, never locks every client out. */
  onError(err: unknown): void;
}

/** Tokens of a file, read again whenever it changes; the union adds `system:authenticated`. */
export async function tokenFileAuthenticator(path: string, reload?: TokenFileReload): Promise<TokenAuthenticator> {
  const version = async () => {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  };
  let seen = await version();
  let tokens = parseTokenFile(await readFile(path, 'utf8'), path);
  if (reload) {
    // A file written in place is truncated, then written: a check can land in between or read while the
    // writer is at work. A read is used only if the file's version is the same after it as before (else the
    // next check reads it again), and an empty file is taken for one caught truncated, so the tokens read
    // before stay until the writer is done.
    const check = async () => {
      const now = await version();
      if (now === seen) return;
      const text = await readFile(path, 'utf8');
      if ((await version()) !== now) return;
      seen = now;
      if (text === '') throw new Error(`${path}: empty; the tokens read before stay`);
      tokens = parseTokenFile(text, path);
    };
    // The next check is timed from the end of the last one: checks that overlapped (a slow disk) would each
    // take the same change for new and report it twice.
    let timer: NodeJS.Timeout | undefined;
    const next = () => {
      if (reload.signal.aborted) return;
      timer = setTimeout(() => void check().catch(reload.onError).finally(next), reload.checkEveryMs ?? 1000);
      timer.unref();
    };
    next();
    reload.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }
  return {
    authenticateToken: async (token) => tokens.get(token),
  };
}
