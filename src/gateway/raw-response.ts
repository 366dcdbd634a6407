// HTTP/1.1 response heads written straight to a socket, for the answers that have no
// ServerResponse: parse errors, refused or failed upgrades, and upgrade answers relayed
// from upstreams.
import { STATUS_CODES } from 'node:http';

/** Status line and header block, ending with the empty line. Header lines with CR or LF
 * in them are left out rather than let split the response. */
export function responseHead(
  status: number,
  headers: Record<string, string | number | readonly string[]>,
  reason = STATUS_CODES[status] ?? '',
): string {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    for (const v of typeof value === 'object' ? value : [value]) {
      const line = `${name}: ${v}`;
      if (!CRLF.test(line)) head += `${line}\r\n`;
    }
  }
  return `${head}\r\n`;
}

/** The same for headers as Node gives them raw: [name, value, name, value, …]. */
export function rawResponseHead(status: number, reason: string, rawHeaders: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}

const CRLF = /[\r\n]/;
