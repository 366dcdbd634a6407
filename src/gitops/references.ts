// Watching what objects name: an index of the objects of a kind by the objects they name
// (a GitRepository its Secret, a Consumer its SecurityPolicies), and the map that turns a
// change of a named object into requests for the objects that name it.
import type { KubeObject } from '../api/kind.ts';
import type { Informer } from '../client/informer.ts';
import { InformerIndex } from '../client/informer-index.ts';
import { requestOf, type ChangeFilter, type Request } from '../controller/runtime/index.ts';

/** `namespace/name`: the key of an object in an informer's cache and in the indexes. */
export const cacheKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** An index of `informer` by the cache keys of the objects `names` lists for each (in the
 * object's namespace unless a name says otherwise). */
export function indexBy<T extends KubeObject>(
  informer: Informer<T>,
  names: (obj: T) => ReadonlyArray<{ namespace?: string; name: string }>,
): InformerIndex<T> {
  return new InformerIndex(informer, (obj) =>
    names(obj).map((n) => cacheKey(n.namespace ?? obj.metadata.namespace ?? 'default', n.name)),
  );
}

/** Maps a changed object to the objects `index` files under its key: those naming it. */
export const naming =
  <T extends KubeObject>(index: InformerIndex<T>) =>
  (obj: KubeObject): Request[] =>
    index.get(cacheKey(obj.metadata.namespace ?? 'default', obj.metadata.name!)).map(requestOf);

/** Whether the object appeared or went: all an existence check needs of a named kind. */
export const appearedOrWent: ChangeFilter<KubeObject> = (change) => change.type !== 'MODIFIED';
