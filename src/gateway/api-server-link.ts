// The gateway's link to its API server, as its log and /healthz tell it. While the API server
// is down, five watches retry (several times a second at first, then every 10 s each) and
// the status writer's election every 2 s: a line per failed attempt would bury everything
// else for as long as the outage lasts. So the first failure after the link was live (or
// before it ever was) logs one warning with the error; while it stays down, one summary per
// `summaryIntervalMs` says since when, how many attempts failed and what is served
// meanwhile; when every watch is connected again, one info line says so.
//
// The link is live while every watch is connected (`connected()`); other requests that
// cannot reach the server (the election, status writes) report here too, so an outage
// noticed by them first is not logged twice.
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.ts';

export interface ApiServerLinkOptions {
  /** The API server's URL, for messages. */
  server: string;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** How often a summary is logged while the API server cannot be reached. */
  summaryIntervalMs: number;
  /** Whether every watch is connected. */
  connected(): boolean;
  /** What the gateway serves without its API server, e.g. "no APIs". */
  serving(): string;
}

type LinkState = 'starting' | 'live' | 'down';

export class ApiServerLink {
  private state: LinkState = 'starting';
  private since = new Date();
  /** Failed attempts since the link went down. */
  private attempts = 0;
  private lastError = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ApiServerLinkOptions) {}

  /** A request to the API server failed: a watch (any failure), or another request that
   * could not reach it (`what` names it). */
  failed(err: unknown, what: string): void {
    this.attempts++;
    this.lastError = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    if (this.state === 'down') return;
    const { server, logger, summaryIntervalMs, serving } = this.options;
    const lost = this.state === 'live' ? 'lost the API server' : 'cannot reach the API server';
    this.become('down');
    logger.warn({ err, what }, `${lost} at ${server}: serving ${serving()} until it answers`);
    this.timer = setInterval(() => this.summarise(), summaryIntervalMs).unref();
  }

  /** A watch connected: the link is live again once every watch is. */
  reconnected(): void {
    if (this.state === 'live' || !this.options.connected()) return;
    if (this.state === 'down') {
      const { attempts } = this;
      const seconds = Math.round((Date.now() - this.since.getTime()) / 1000);
      const back = `the API server at ${this.options.server} answers again after ${attempts} failed attempts`;
      this.options.logger.info({ attempts, seconds }, `${back} over ${seconds} s: serving the live config`);
    }
    this.become('live');
  }

  /** The body of /healthz. The gateway is healthy whether or not its API server answers
   * (it serves what it has); the second line says what it serves and since when. */
  health(): string {
    const { server, serving } = this.options;
    const since = this.since.toISOString();
    if (this.state === 'live') return `ok\nserving the live config from the API server at ${server} since ${since}\n`;
    const why =
      this.state === 'starting'
        ? `waiting for the API server at ${server} since ${since}`
        : `the API server at ${server} unreachable since ${since}, ${this.attempts} failed attempts`;
    return `ok\nserving ${serving()}: ${why}\n`;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private summarise(): void {
    // A request other than a watch may have failed alone (a moment's blip): the watches,
    // still connected, then never report a reconnection, so the summary checks.
    if (this.options.connected()) {
      this.reconnected();
      return;
    }
    const { server, logger, serving } = this.options;
    const { attempts, lastError } = this;
    const since = this.since.toISOString();
    const summary = `still cannot reach the API server at ${server} (since ${since}, ${attempts} failed attempts;`;
    logger.warn({ attempts, since, lastError }, `${summary} last: ${lastError}): serving ${serving()}`);
  }

  private become(state: LinkState): void {
    this.state = state;
    this.since = new Date();
    if (state === 'down') return;
    this.attempts = 0;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The last good config read from disk at start. */
export interface LastGoodFile {
  path: string;
  savedAt: string;
}

/** What a gateway serves while its API server does not answer, in words. */
export function lastGoodServed(config: GatewayConfig, file: LastGoodFile | undefined): string {
  if (config.source === 'apiserver') {
    return `the last good config, generation ${config.generation}, as last received from the API server`;
  }
  if (config.source === 'disk' && file) return `the last good config from ${file.path} (saved at ${file.savedAt})`;
  return 'no APIs (no config received, none read from disk yet)';
}
