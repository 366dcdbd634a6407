// The Sync engine's error catalogue. A reconciler branches on the class and `code`, never
// on message text: BuildError and ValidationError mean the revision itself is wrong (retry
// when the source changes, or at the interval); ApplyError means a write failed after the
// revision validated (retry with backoff). Messages name the file, the object and the field.
import type { ChangeSetEntry } from './change-set.ts';
import { describeObject, type ObjectIdentity } from './manifest.ts';

export type BuildErrorCode =
  /** `path`, a symlink or a kustomize resource leads outside the artifact. */
  | 'PathOutsideRoot'
  /** `path` or a kustomize resource does not exist in the artifact (remote ones included). */
  | 'PathNotFound'
  | 'YamlSyntax'
  /** `${VAR}` without a value or a default. */
  | 'UndefinedVariable'
  /** A document that is not an object with apiVersion, kind and metadata.name. */
  | 'InvalidManifest'
  /** A kind the API server does not serve. */
  | 'UnknownKind'
  /** Two documents define the same object. */
  | 'DuplicateObject'
  /** A kustomization, and neither kustomize nor kubectl on PATH. */
  | 'KustomizeUnavailable'
  /** kustomize failed or timed out. */
  | 'KustomizeFailed';

export type SyncErrorCode = BuildErrorCode | 'ValidationFailed' | 'ApplyFailed' | 'PruneFailed';

export abstract class SyncError extends Error {
  abstract readonly code: SyncErrorCode;
}

export class BuildError extends SyncError {
  override readonly name = 'BuildError';
  readonly code: BuildErrorCode;
  /** The file concerned, relative to the artifact root, when there is one. */
  readonly file: string | undefined;

  constructor(code: BuildErrorCode, message: string, file?: string) {
    super(message);
    this.code = code;
    this.file = file;
  }
}

/** One object the server refused in the dry run, or one this Sync may not take over. */
export interface ValidationFailure {
  file: string;
  object: ObjectIdentity;
  /** The field the server named (a Status cause's field path), when it named one. */
  field?: string;
  message: string;
  /** The reason of the server's Status (`Forbidden`: the identity applying may not), when the server refused it. */
  reason?: string;
}

export function formatFailure(failure: ValidationFailure): string {
  return `${failure.file}: ${describeObject(failure.object)}: ${failure.field ? `${failure.field}: ` : ''}${failure.message}`;
}

/** The dry run refused objects: nothing was written. The message has one line per failure. */
export class ValidationError extends SyncError {
  override readonly name = 'ValidationError';
  readonly code = 'ValidationFailed';
  readonly failures: ValidationFailure[];

  constructor(failures: ValidationFailure[], total: number) {
    const objects = new Set(failures.map((f) => `${f.file}\0${describeObject(f.object)}`)).size;
    super(
      `${objects} of ${total} objects failed validation; nothing was applied:\n${failures.map((f) => `  ${formatFailure(f)}`).join('\n')}`,
    );
    this.failures = failures;
  }
}

/** A write or delete failed after validation passed. `done` lists what was written or
 * deleted before it, so the reconciler can report it and keep it in the inventory. */
export class ApplyError extends SyncError {
  override readonly name = 'ApplyError';
  readonly code: 'ApplyFailed' | 'PruneFailed';
  readonly done: ChangeSetEntry[];

  constructor(code: 'ApplyFailed' | 'PruneFailed', message: string, done: ChangeSetEntry[], cause: unknown) {
    super(message, { cause });
    this.code = code;
    this.done = done;
  }
}
