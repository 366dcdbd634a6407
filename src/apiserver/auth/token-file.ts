// kube-apiserver's --token-file: static bearer tokens, one `token,user,uid,"group1,group2"` CSV line each.
import { readFile } from 'node:fs/promises';
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

/** Tokens of a static file; the union adds `system:authenticated`. */
export async function tokenFileAuthenticator(path: string): Promise<TokenAuthenticator> {
  const tokens = parseTokenFile(await readFile(path, 'utf8'), path);
  return {
    authenticateToken: async (token) => tokens.get(token),
  };
}
