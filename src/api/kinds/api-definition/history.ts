// What GET apidefinitions/{name}/history answers: every generation of an ApiDefinition the API server recorded
// as it wrote it (apiserver/api-history.ts), oldest first, bounded per object.
import type { KubeObject } from '../../kind.ts';

export const API_HISTORY_KIND = 'ApiDefinitionHistory';
/** How many generations are kept per ApiDefinition unless `--api-history-limit` says otherwise. */
export const DEFAULT_API_HISTORY_LIMIT = 50;

/** The Sync whose apply wrote a generation, and the Git commit it applied. */
export interface ApiHistorySource {
  namespace: string;
  name: string;
  /** `main@sha1:<sha>`: the revision the Sync was applying (its status.lastAttemptedRevision). */
  revision?: string;
  /** `Name <email>` of the commit's author, and its subject, as the GitRepository recorded them. */
  author?: string;
  subject?: string;
}

/** One spec field a generation changed. Values of Secret-like fields (header values the gateway sets) are
 * masked: that they changed shows, not what they hold. */
export interface ApiHistoryChange {
  path: string;
  /** Absent when the field was added. */
  before?: unknown;
  /** Absent when the field was removed. */
  after?: unknown;
}

export interface ApiHistoryEntry {
  generation: number;
  /** The resourceVersion of the write that made this generation. */
  resourceVersion: string;
  time: string;
  /** The authenticated user of the write. */
  user?: string;
  /** Present when the write was a Sync's apply (the user is the identity that Sync applies as). */
  sync?: ApiHistorySource;
  /** Every spec field for generation 1, the changed ones after. */
  changes: ApiHistoryChange[];
}

export interface ApiDefinitionHistory extends KubeObject {
  /** metadata: the ApiDefinition's namespace, name and uid. */
  entries: ApiHistoryEntry[];
}
