import type { KubeObject } from '../../api/kind.ts';
import { isStatusError } from '../../client/errors.ts';
import type { KubeClient, ResourceRef } from '../../client/rest.ts';
import type { Request } from '../../controller/runtime/index.ts';

/** The object as stored now, or undefined when it does not exist. */
export async function getOrUndefined<T extends KubeObject>(
  client: KubeClient,
  ref: ResourceRef,
  request: Request,
): Promise<T | undefined> {
  try {
    return await client.get<T>(ref, request.name, request.namespace);
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return undefined;
    throw err;
  }
}
