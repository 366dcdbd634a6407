// Watch over HTTP: one JSON event per line (or, for protobuf, one length-prefixed frame), written
// (and so flushed) as it happens.
// Follows kube-apiserver: errors after the stream started are an ERROR event carrying a
// Status (410 Expired for a resourceVersion older than the compaction window); BOOKMARK
// events when asked for; the stream ends after its timeout (watchTimeoutMs); with Table
// output only the first event carries the column definitions.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../api/kind.ts';
import { ApiError, errors } from '../errors.ts';
import type { ObjectEvent, ResourceStore } from '../registry/store.ts';
import type { Representation } from './negotiate.ts';
import { encodeWatchEvent, PROTOBUF_WATCH_TYPE } from './protobuf.ts';
import type { ListOptions } from './query.ts';
import { partialMetadata, table, type IncludeObject } from './table.ts';

/** kube-apiserver's default --min-request-timeout, in seconds. */
export const DEFAULT_MIN_REQUEST_TIMEOUT_SECONDS = 1800;
const BOOKMARK_INTERVAL_MS = 5000;
/** The longest delay a Node timer holds; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long a watch lasts. Without timeoutSeconds (or with 0), as kube-apiserver: a random
 * time between --min-request-timeout and twice it, so that watches opened together are not
 * all re-opened together. A requested timeoutSeconds is honoured up to twice
 * --min-request-timeout: kube-apiserver honours any value, Gatehouse caps it so no client
 * holds a watch longer than the server would give one that asked for nothing (client-go
 * asks for 5 to 10 minutes), and so a huge value cannot overflow the timer. */
export function watchTimeoutMs(timeoutSeconds: number | undefined, minRequestTimeoutSeconds: number): number {
  const seconds = timeoutSeconds
    ? Math.min(timeoutSeconds, 2 * minRequestTimeoutSeconds)
    : minRequestTimeoutSeconds * (1 + Math.random());
  return Math.min(seconds * 1000, MAX_TIMER_MS);
}
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export async function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  store: ResourceStore,
  namespace: string | undefined,
  options: ListOptions,
  representation: Representation,
  include: IncludeObject,
  minRequestTimeoutSeconds: number,
): Promise<void> {
  const { sendInitialEvents, allowWatchBookmarks: allowBookmarks, resourceVersionMatch: rvMatch } = options;
  if (sendInitialEvents !== undefined) {
    // kube-apiserver's validation of the streaming-list parameters.
    if (rvMatch !== 'NotOlderThan') {
      throw errors.invalid(store.ref, 'ListOptions', '', [
        {
          type: 'FieldValueForbidden',
          field: 'sendInitialEvents',
          message:
            'Forbidden: sendInitialEvents is forbidden for watch unless the resourceVersionMatch is set to NotOlderThan',
        },
      ]);
    }
    if (sendInitialEvents && !allowBookmarks) {
      throw errors.invalid(store.ref, 'ListOptions', '', [
        {
          type: 'FieldValueForbidden',
          field: 'allowWatchBookmarks',
          message: 'Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents is set',
        },
      ]);
    }
  } else if (rvMatch !== undefined) {
    throw errors.badRequest(`resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided`);
  }
  const timeoutMs = watchTimeoutMs(options.timeoutSeconds, minRequestTimeoutSeconds);
  // Protobuf watches are length-prefixed WatchEvent frames (built-in kinds); others, a JSON line per event.
  const protobuf = representation.encoding === 'protobuf';
  const contentType = protobuf ? PROTOBUF_WATCH_TYPE : 'application/json';
  const frame = (type: string, object: unknown): string | Buffer =>
    protobuf
      ? encodeWatchEvent(type, object as Record<string, unknown>)
      : `{"type":"${type}","object":${encodeShared(object)}}\n`;

  const abort = new AbortController();
  let events: AsyncGenerator<ObjectEvent>;
  try {
    events = await store.watch(
      namespace,
      {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        sendInitialEvents,
      },
      abort.signal,
    );
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'Expired') {
      // client-go expects the 410 as an ERROR event on an open stream.
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache, private' });
      res.end(frame('ERROR', err.toStatus()));
      return;
    }
    throw err;
  }
  const stop = () => abort.abort();
  req.on('close', stop);
  res.on('close', stop);
  const timer = setTimeout(stop, timeoutMs);

  const streaming = { 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' };
  res.writeHead(200, { 'content-type': contentType, ...streaming });
  res.flushHeaders();
  let columnsSent = false;
  let lastRV = options.resourceVersion ?? '';
  const write = (type: string, object: unknown) => {
    res.write(frame(type, object));
  };
  const render = (obj: KubeObject): unknown => {
    if (representation.shape === 'table') {
      const t = table(
        store.def,
        [obj],
        { resourceVersion: obj.metadata.resourceVersion },
        include,
        representation.metaVersion,
        !columnsSent,
      );
      columnsSent = true;
      return t;
    }
    if (representation.shape === 'metadata') return partialMetadata(obj, representation.metaVersion);
    return obj;
  };
  const emit = (event: ObjectEvent) => {
    if (event.object.metadata.resourceVersion) lastRV = event.object.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (!allowBookmarks) return;
      const metadata: Record<string, unknown> = { resourceVersion: event.object.metadata.resourceVersion };
      if (event.initialEventsEnd) metadata.annotations = { [INITIAL_EVENTS_END]: 'true' };
      write('BOOKMARK', { kind: event.object.kind, apiVersion: event.object.apiVersion, metadata });
      return;
    }
    write(event.type, render(event.object));
  };
  const bookmarks = allowBookmarks
    ? setInterval(() => {
        if (lastRV)
          write('BOOKMARK', {
            kind: store.def.kind,
            apiVersion: store.apiVersion,
            metadata: { resourceVersion: lastRV },
          });
      }, BOOKMARK_INTERVAL_MS)
    : undefined;
  try {
    while (!abort.signal.aborted) {
      const next = await nextOrAbort(events.next(), abort.signal);
      if (next.done) break;
      emit(next.value);
    }
  } catch (err) {
    if (!abort.signal.aborted) {
      const apiError =
        err instanceof ApiError ? err : errors.internal(err instanceof Error ? err.message : String(err), err);
      write('ERROR', apiError.toStatus());
    }
  } finally {
    clearTimeout(timer);
    if (bookmarks) clearInterval(bookmarks);
    req.off('close', stop);
    res.off('close', stop);
    abort.abort();
    void events.return(undefined);
    res.end();
  }
}

const ABORTED: IteratorResult<ObjectEvent> = { done: true, value: undefined };

/** Watch events of one write share one decoded object across every watch (see
 * ResourceStore.decode), so its JSON is made once, not once per watcher. */
const encoded = new WeakMap<object, string>();

function encodeShared(object: unknown): string {
  if (typeof object !== 'object' || object === null) return JSON.stringify(object);
  let text = encoded.get(object);
  if (text === undefined) {
    text = JSON.stringify(object);
    encoded.set(object, text);
  }
  return text;
}

/** Waits for the next event, or ends the wait as soon as the watch is stopped. */
function nextOrAbort(
  next: Promise<IteratorResult<ObjectEvent>>,
  signal: AbortSignal,
): Promise<IteratorResult<ObjectEvent>> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    next.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
