// The Secrets the served APIs refer to, each read by name and nothing else: a list and watch
// of `fieldSelector=metadata.name=NAME` in its namespace, which kube-apiserver (and Gatehouse)
// authorize as `list` and `watch` of that one name, so a Role with `resourceNames` grants
// them (docs/access.md), as the kubelet reads the Secrets of its Pods. A Secret the gateway
// may not read is missing to it: the API referring to it is left out, the refusal logged once.
import type { Logger } from 'pino';
import { secretKind, type Secret } from '../api/core/secret/index.ts';
import { isStatusError } from '../client/errors.ts';
import { Informer } from '../client/informer.ts';
import type { KubeClient } from '../client/rest.ts';

export interface ReferencedSecretsOptions {
  /** Told after a followed Secret was listed, changed or deleted. */
  onChange(): void;
  /** Failures other than a refusal (the API server unreachable), to be told once per outage. */
  unreachable(err: unknown, what: string): void;
  logger: Pick<Logger, 'warn' | 'info'>;
}

interface Reader {
  informer: Informer<Secret>;
  /** Resolves once the Secret was listed or refused the first time. */
  answered: Promise<void>;
}

export class ReferencedSecrets {
  private readonly readers = new Map<string, Reader>();
  private readonly refused = new Set<string>();
  private readonly stopping = new Set<Promise<void>>();

  constructor(
    private readonly client: KubeClient,
    private readonly options: ReferencedSecretsOptions,
  ) {}

  /** Reads exactly the Secrets `refs` ("namespace/name") from now on. Undefined when all of them
   * were read before; else resolves once each new one answered (listed, or refused). */
  follow(refs: ReadonlySet<string>): Promise<void> | undefined {
    for (const [ref, reader] of this.readers) {
      if (refs.has(ref)) continue;
      this.readers.delete(ref);
      this.refused.delete(ref);
      const stopped = reader.informer.stop().finally(() => this.stopping.delete(stopped));
      this.stopping.add(stopped);
    }
    const answers = [...refs].filter((ref) => !this.readers.has(ref)).map((ref) => this.read(ref));
    return answers.length > 0 ? Promise.all(answers).then(() => undefined) : undefined;
  }

  /** The followed Secrets the gateway has read. */
  items(): Secret[] {
    return [...this.readers.values()].flatMap((r) => r.informer.items());
  }

  async stop(): Promise<void> {
    const readers = [...this.readers.values()];
    this.readers.clear();
    await Promise.all([...readers.map((r) => r.informer.stop()), ...this.stopping]);
  }

  private read(ref: string): Promise<void> {
    const [namespace, name] = ref.split('/');
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const informer = new Informer<Secret>(this.client, secretKind, {
      namespace,
      fieldSelector: `metadata.name=${name}`,
      onError: (err) => {
        answer();
        if (!isStatusError(err, 'Forbidden')) return this.options.unreachable(err, `read of Secret ${ref}`);
        if (this.refused.has(ref)) return;
        this.refused.add(ref);
        this.options.logger.warn(
          { secret: ref, err },
          `the gateway may not read Secret ${ref}: APIs referring to it are left out until it may (docs/access.md)`,
        );
      },
      onChange: () => {
        answer();
        if (this.refused.delete(ref))
          this.options.logger.info({ secret: ref }, `the gateway reads Secret ${ref} again`);
        this.options.onChange();
      },
    });
    this.readers.set(ref, { informer: informer.start(), answered });
    return answered;
  }
}
