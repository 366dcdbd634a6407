// How a failed command reads: one line for a person, naming the flag, file or server at
// fault instead of the errno or the bare Status reason underneath. The cause stays on the
// error for the debug log.
import type { Command } from 'commander';
import { ApiStatusError } from '../client/errors.ts';
import { KubeconfigError } from '../client/kubeconfig.ts';

/** What the failing command was talking to, as far as it got. */
export interface FailureContext {
  /** The command whose flags a listen failure is matched against. */
  command?: Command;
  kubeconfig?: string;
  /** The API server URL the kubeconfig names. */
  server?: string;
}

/** Transport failures (Node's and undici's codes) in words. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is it running?)',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection failed',
  DEPTH_ZERO_SELF_SIGNED_CERT: "its certificate is not signed by the kubeconfig's certificate authority",
  SELF_SIGNED_CERT_IN_CHAIN: "its certificate is not signed by the kubeconfig's certificate authority",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its certificate is not signed by the kubeconfig's certificate authority",
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is not valid for this address',
  CERT_HAS_EXPIRED: 'its certificate has expired',
};

const LISTEN: Record<string, string> = {
  EADDRINUSE: 'is in use (another process listens there); pick another port',
  EACCES: 'may not be listened on by this user; pick a port above 1023',
  EADDRNOTAVAIL: 'is on an address this machine does not have',
};

/** A failure already worded for a person, with the exit code the command ends with. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
  constructor(
    message: string,
    readonly exitCode: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function explainFailure(err: unknown, context: FailureContext = {}): string {
  if (err instanceof KubeconfigError) return err.message;
  const server = context.server ? ` at ${context.server}` : '';
  const kubeconfig = context.kubeconfig ? ` in kubeconfig ${context.kubeconfig}` : '';
  if (err instanceof ApiStatusError && err.code === 401) {
    return (
      `the API server${server} refused the credentials${kubeconfig} (401 Unauthorized): ` +
      'the token or certificate is wrong or no longer valid'
    );
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const syscall = (err as NodeJS.ErrnoException | undefined)?.syscall;
  if (code && syscall === 'listen' && LISTEN[code]) {
    return `${listenFlag(err as ListenError, context.command)} ${LISTEN[code]}`;
  }
  if (code && UNREACHABLE[code]) {
    const from = context.kubeconfig ? ` (from kubeconfig ${context.kubeconfig})` : '';
    return `cannot reach the API server${server}${from}: ${UNREACHABLE[code]}`;
  }
  return err instanceof Error ? err.message : String(err);
}

interface ListenError extends NodeJS.ErrnoException {
  address?: string;
  port?: number;
}

/** The flag that chose the port a listen failed on (`--port 8080`), or the address. */
function listenFlag(err: ListenError, command: Command | undefined): string {
  const option = command?.options.find((o) => o.long && command.getOptionValue(o.attributeName()) === err.port);
  const where = `${err.address ?? ''}:${err.port ?? ''}`;
  return option ? `${option.long} ${err.port} (${where})` : `the address ${where}`;
}
