import type { JSONSchema } from '../../kind.ts';
import { artifactSignatureSchema } from '../git-repository/schema.ts';
import {
  DNS1123_LABEL_PATTERN,
  DNS1123_SUBDOMAIN_PATTERN,
  array,
  boolean,
  dateTime,
  duration,
  enumeration,
  integer,
  map,
  number,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';

/** A Secret's data keys (kube's IsConfigMapKey). */
const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

/** A reference to a Sync, with `more` fields (required). */
function syncReference(description: string, more: Record<string, JSONSchema>): JSONSchema {
  return object(
    description,
    {
      name: string('Name of the Sync.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
      namespace: string("Namespace of the Sync; defaults to this Sync's namespace.", {
        pattern: DNS1123_LABEL_PATTERN,
      }),
      ...more,
    },
    { required: ['name', ...Object.keys(more)] },
  );
}

export const syncSchema: JSONSchema = specAndStatus(
  "Sync applies the manifests under a path of a source's artifact (Flux Kustomization field names): validates the whole revision, applies what drifted, prunes what was removed.",
  object(
    'What to apply and how.',
    {
      sourceRef: object(
        'The source whose artifact is applied.',
        {
          kind: enumeration('Kind of the source.', ['GitRepository'], 'GitRepository'),
          name: string('Name of the source.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
          namespace: string("Namespace of the source; defaults to the Sync's namespace.", {
            pattern: DNS1123_LABEL_PATTERN,
          }),
        },
        { required: ['name'] },
      ),
      kubeConfig: object(
        "The cluster the Sync applies to, prunes in and diffs against, instead of the controller's own API server " +
          "(Flux's field); the Sync's status, inventory and Events stay where the Sync is.",
        {
          secretRef: object(
            "Secret of the Sync's namespace holding the kubeconfig; its credentials must be inline (no exec or " +
              'auth-provider plugin, no file).',
            {
              name: string('Name of the Secret.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
              key: string("Key of the kubeconfig in the Secret; absent, 'value', else 'value.yaml'.", {
                pattern: SECRET_KEY_PATTERN,
              }),
            },
            { required: ['name'] },
          ),
        },
        { required: ['secretRef'] },
      ),
      dependsOn: array(
        "Syncs that must be Ready before this one applies anything (Flux's field).",
        syncReference('A Sync this one depends on.', {}),
        { 'x-kubernetes-list-type': 'atomic' },
      ),
      promotion: object(
        'Promotion gate: a revision is applied only once another Sync has run the same commit, Ready, for a while.',
        {
          from: syncReference('The Sync a revision is promoted from (the earlier environment).', {
            healthyFor: duration('How long the Sync must have been Ready at the revision without a break.'),
          }),
        },
        { required: ['from'] },
      ),
      path: string('Directory inside the artifact whose YAML files are applied, relative to its root.', {
        default: './',
      }),
      interval: duration('How often the applied state is checked for drift and re-applied.', '5m'),
      prune: boolean(
        'Whether objects removed from the source are deleted, and all of its objects when the Sync is deleted.',
        false,
      ),
      suspend: boolean('Stops applying while true.', false),
      targetNamespace: string('Namespace set on every namespaced object applied.', { pattern: DNS1123_LABEL_PATTERN }),
      substitute: map('Variables replaced in the manifests: ${name} becomes the value.'),
      serviceAccountName: string(
        "ServiceAccount of the Sync's namespace whose rights apply and prune are limited to (by impersonation); " +
          "absent, the controller's own.",
        { pattern: DNS1123_SUBDOMAIN_PATTERN },
      ),
      lock: boolean(
        "Whether the API server refuses writes to the Sync's objects by anyone but the Sync; a user allowed the " +
          "'override' verb may still write one by setting the gatehouse.dev/override-reason annotation.",
        true,
      ),
      wait: boolean(
        'Whether, after applying a revision, the Sync waits for every ApiDefinition it applied to be Ready and ' +
          'UpstreamHealthy, and rolls back to the last healthy revision when they are not within spec.timeout.',
      ),
      healthChecks: array(
        'ApiDefinitions that must be Ready and UpstreamHealthy within spec.timeout after an apply, as with wait.',
        object(
          'One ApiDefinition to check.',
          {
            kind: enumeration('Kind of the object.', ['ApiDefinition'], 'ApiDefinition'),
            name: string('Name of the object.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
            namespace: string("Namespace of the object; defaults to the Sync's (or spec.targetNamespace).", {
              pattern: DNS1123_LABEL_PATTERN,
            }),
          },
          { required: ['name'] },
        ),
        { 'x-kubernetes-list-type': 'atomic' },
      ),
      timeout: duration('How long the health checks of an apply may take; defaults to spec.interval.'),
      rollback: object(
        "Error-rate analysis of a newly applied revision: once its health checks pass, the gateway's share of 5xx " +
          'answers on the checked ApiDefinitions (every applied one without spec.healthChecks) must stay at or ' +
          'below maxErrorRate for window, or the last healthy revision is re-applied.',
        {
          maxErrorRate: number('Largest share of 5xx answers, from 0 to 1.', { minimum: 0, maximum: 1 }),
          window: duration('How long the share is watched; fewer than 10 requests in it are not judged.'),
        },
        { required: ['maxErrorRate', 'window'] },
      ),
    },
    { required: ['sourceRef'] },
  ),
  statusSchema('Observed state of the sync.', {
    appliedBy: string("User the Sync's writes come from: its ServiceAccount's, or the controller's."),
    healthy: object(
      'The applied revision and since when the Sync has been Ready at it without a break; a Sync promoting from ' +
        'this one reads it.',
      {
        revision: string('Source revision applied.'),
        since: dateTime('When the Sync became Ready at it.'),
      },
      { required: ['revision', 'since'] },
    ),
    overrides: array(
      'Objects changed by hand with the gatehouse.dev/override-reason annotation, which the Sync leaves alone.',
      object(
        'One overridden object.',
        {
          kind: string('Kind of the object.'),
          namespace: string('Namespace of the object.'),
          name: string('Name of the object.'),
          reason: string('The override-reason annotation.'),
        },
        { required: ['kind', 'name', 'reason'] },
      ),
      { 'x-kubernetes-list-type': 'atomic' },
    ),
    lastAppliedRevision: string('Source revision last applied successfully.'),
    lastAttemptedRevision: string('Source revision of the last attempt, successful or not.'),
    inventory: object(
      'Objects applied by the last successful apply; pruning deletes those no longer in the source.',
      {
        entries: array(
          'Applied objects.',
          object(
            'One applied object.',
            {
              id: string('Object identity: "<namespace>_<name>_<group>_<kind>".'),
              v: string('API version the object was applied with.'),
            },
            { required: ['id', 'v'] },
          ),
          { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'] },
        ),
      },
      { required: ['entries'] },
    ),
    history: array(
      'Recent applies, newest first, at most 10 (the controller drops older ones); a rollback re-applies the revision of an entry.',
      object(
        'One apply.',
        {
          revision: string('Source revision applied.'),
          digest: string('"sha256:<hex>" of the applied manifests.'),
          time: dateTime('When the apply finished.'),
          status: enumeration(
            'Outcome: Failed when the revision did not apply or failed its health checks; RolledBack when a ' +
              'rollback re-applied it.',
            ['Succeeded', 'Failed', 'RolledBack'],
          ),
          message: string('Summary of the outcome.'),
          created: integer('Objects created by the apply.', { minimum: 0 }),
          configured: integer('Objects updated because they differed from the source.', { minimum: 0 }),
          unchanged: integer('Objects that already matched the source and were not written.', { minimum: 0 }),
          deleted: integer('Objects pruned because they left the source.', { minimum: 0 }),
          signature: artifactSignatureSchema('The verified signature of the revision (its source has spec.verify).'),
        },
        { required: ['revision', 'time', 'status'] },
      ),
      // Ordered newest first: replaced whole.
      { 'x-kubernetes-list-type': 'atomic' },
    ),
    rolledBackTo: object(
      "A rollback in force: the Sync applies an earlier revision instead of its source's until the source moves " +
        "on or 'gatehouse resume sync' releases it.",
      {
        revision: string('The revision of status.history re-applied.'),
        from: string('The source revision held back; another source revision ends the rollback.'),
        time: dateTime('When the rollback was asked for or decided.'),
        by: string("Who asked for it, or the Sync's writer for an automatic rollback."),
        reason: string('Why.'),
        automatic: boolean('Whether the controller rolled back by itself after failed health checks.'),
      },
      { required: ['revision', 'from', 'time', 'by', 'reason'] },
    ),
  }),
);
