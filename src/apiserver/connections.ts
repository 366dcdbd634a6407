// The API server's connections: how long a client may take, and how many may be open.
// Timeouts follow kube-apiserver's HTTP server (secure_serving.go: ReadHeaderTimeout 32 s,
// IdleTimeout 90 s; --request-timeout 60 s), so slow and idle sockets are closed rather
// than held for ever. The connection cap is Gatehouse's own: it keeps file descriptors
// for storage and the rest of the process, and when it is reached a new connection
// displaces the oldest one that has never authenticated and has no request in flight,
// so clients that authenticated keep being served however many others pile up.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ServerOptions } from 'node:https';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** From the connection (TLS handshake included) to the end of a request's headers. */
  headerTimeoutMs: number;
  /** To receive a whole request, body included. The answer is not bounded: a watch (and
   * any other long-running response) lasts as long as it needs. */
  requestTimeoutMs: number;
  /** A keep-alive connection with no request in flight is closed after this long. */
  idleTimeoutMs: number;
  maxConnections: number;
}

/** Share of the process's open file limit that connections may take. */
const CONNECTION_SHARE_OF_FILES = 0.8;
const FALLBACK_MAX_CONNECTIONS = 4096;

export function defaultConnectionLimits(): ConnectionLimits {
  return {
    headerTimeoutMs: 32_000,
    requestTimeoutMs: 60_000,
    idleTimeoutMs: 90_000,
    maxConnections: defaultMaxConnections(),
  };
}

/** 80% of the open file limit (Node raises the soft limit to the hard one at start), or
 * 4096 where /proc does not say. */
function defaultMaxConnections(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    if (Number.isSafeInteger(soft) && soft > 0) return Math.max(1, Math.floor(soft * CONNECTION_SHARE_OF_FILES));
  } catch {
    // Not Linux: the fallback below.
  }
  return FALLBACK_MAX_CONNECTIONS;
}

/** Options for node:https createServer carrying the timeouts. Node checks header and
 * request timeouts on an interval, so a quarter of the header timeout is the slack. */
export function serverTimeouts(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headerTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headerTimeoutMs),
    handshakeTimeout: limits.headerTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.floor(limits.headerTimeoutMs / 4)),
  };
}

interface Connection {
  key: string;
  /** The TCP socket; `socket` is the TLS one on it once the handshake is done. */
  raw: Socket;
  socket: Socket;
  authenticated: boolean;
  inFlight: number;
}

/** Every open connection of one server, keyed by the client's address and port (the same
 * for the TCP socket and the TLS socket on it). */
export class Connections {
  private readonly open = new Map<string, Connection>();
  private readonly max: number;

  constructor(server: Server, max: number) {
    this.max = max;
    server.on('connection', (socket: Socket) => this.admit(socket));
    // TLS reads and writes through its own socket: that is the one to cut.
    server.on('secureConnection', (socket: Socket) => {
      const connection = this.open.get(keyOf(socket));
      if (connection) connection.socket = socket;
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const connection = this.open.get(keyOf(req.socket));
      if (!connection) return;
      connection.inFlight++;
      res.once('close', () => connection.inFlight--);
    });
  }

  /** Marks the connection a request came on as one of an authenticated client. */
  authenticated(req: IncomingMessage): void {
    const connection = this.open.get(keyOf(req.socket));
    if (connection) connection.authenticated = true;
  }

  /** Cuts every connection, watches included. */
  destroyAll(): void {
    for (const { socket } of this.open.values()) socket.destroy();
  }

  private admit(socket: Socket): void {
    if (this.open.size >= this.max) {
      const victim = [...this.open.values()].find((c) => !c.authenticated && c.inFlight === 0);
      if (!victim) {
        socket.destroy();
        return;
      }
      victim.socket.destroy();
      victim.raw.destroy();
      this.open.delete(victim.key);
    }
    const key = keyOf(socket);
    this.open.set(key, { key, raw: socket, socket, authenticated: false, inFlight: 0 });
    socket.once('close', () => {
      const connection = this.open.get(key);
      if (connection?.socket === socket || connection?.raw === socket) this.open.delete(key);
    });
  }
}

function keyOf(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
