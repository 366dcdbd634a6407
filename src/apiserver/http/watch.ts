// Watch over HTTP: one JSON event per line, written (and so flushed) as it happens.
// Follows kube-apiserver: errors after the stream started are an ERROR event carrying a
// Status (410 Expired for a resourceVersion older than the compaction window); BOOKMARK
// events when asked for; the stream ends after `timeoutSeconds`; with Table output only
// the first event carries the column definitions.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../api/kind.ts';
import { ApiError, errors } from '../errors.ts';
import type { ObjectEvent, ResourceStore } from '../registry/store.ts';
import type { Representation } from './negotiate.ts';
import { partialMetadata, table, type IncludeObject } from './table.ts';

const DEFAULT_TIMEOUT_SECONDS = 1800;
const BOOKMARK_INTERVAL_MS = 5000;
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export async function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  store: ResourceStore,
  namespace: string | undefined,
  query: URLSearchParams,
  representation: Representation,
  include: IncludeObject,
): Promise<void> {
  const sendInitialEventsRaw = query.get('sendInitialEvents');
  const sendInitialEvents = sendInitialEventsRaw === null ? undefined : sendInitialEventsRaw === 'true';
  const allowBookmarks = query.get('allowWatchBookmarks') === 'true';
  const rvMatch = query.get('resourceVersionMatch') ?? undefined;
  if (sendInitialEvents !== undefined) {
    // kube-apiserver's validation of the streaming-list parameters.
    if (rvMatch !== 'NotOlderThan') {
      throw errors.invalid(store.ref, 'ListOptions', '', [{ type: 'FieldValueForbidden', field: 'sendInitialEvents', message: "Forbidden: sendInitialEvents is forbidden for watch unless the resourceVersionMatch is set to NotOlderThan" }]);
    }
    if (sendInitialEvents && !allowBookmarks) {
      throw errors.invalid(store.ref, 'ListOptions', '', [{ type: 'FieldValueForbidden', field: 'allowWatchBookmarks', message: 'Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents is set' }]);
    }
  } else if (rvMatch !== undefined) {
    throw errors.badRequest(`resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided`);
  }
  const timeoutRaw = query.get('timeoutSeconds');
  if (timeoutRaw !== null && !/^\d+$/.test(timeoutRaw)) throw errors.badRequest(`invalid timeoutSeconds "${timeoutRaw}": must be a non-negative integer`);
  const timeoutMs = (timeoutRaw ? Number(timeoutRaw) : DEFAULT_TIMEOUT_SECONDS) * 1000;

  const abort = new AbortController();
  let events: AsyncGenerator<ObjectEvent>;
  try {
    events = await store.watch(namespace, {
      labelSelector: query.get('labelSelector') ?? undefined,
      fieldSelector: query.get('fieldSelector') ?? undefined,
      resourceVersion: query.get('resourceVersion') ?? undefined,
      sendInitialEvents,
    }, abort.signal);
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'Expired') {
      // client-go expects the 410 as an ERROR event on an open stream.
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: err.toStatus() })}\n`);
      return;
    }
    throw err;
  }
  const stop = () => abort.abort();
  req.on('close', stop);
  res.on('close', stop);
  const timer = setTimeout(stop, timeoutMs);

  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  let columnsSent = false;
  let lastRV = query.get('resourceVersion') ?? '';
  const write = (type: string, object: unknown) => {
    res.write(`{"type":"${type}","object":${encodeShared(object)}}\n`);
  };
  const render = (obj: KubeObject): unknown => {
    if (representation.shape === 'table') {
      const t = table(store.def, [obj], { resourceVersion: obj.metadata.resourceVersion }, include, representation.metaVersion, !columnsSent);
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
        if (lastRV) write('BOOKMARK', { kind: store.def.kind, apiVersion: store.apiVersion, metadata: { resourceVersion: lastRV } });
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
      const apiError = err instanceof ApiError ? err : errors.internal(err instanceof Error ? err.message : String(err), err);
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
function nextOrAbort(next: Promise<IteratorResult<ObjectEvent>>, signal: AbortSignal): Promise<IteratorResult<ObjectEvent>> {
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
