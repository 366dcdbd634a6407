// The counters endpoint (contract in api/counters.ts): gateways add their rate limit and
// quota counts here in batches and read back the totals of every gateway. Authorized as
// `create` on `counters.gatehouse.dev` by the caller (handler.ts), validated here, stored
// through Storage.addCounters.
import type { IncomingMessage } from 'node:http';
import { MAX_COUNTER_INCREMENTS, MAX_COUNTER_KEY_LENGTH, type CountersResponse } from '../../api/counters.ts';
import type { FieldError } from '../../api/kind.ts';
import type { CounterIncrement, Storage } from '../../storage/storage.ts';
import type { UserInfo } from '../auth/auth.ts';
import { errors, fromStorageError, type ResourceRef } from '../errors.ts';
import { decodeBody, readBody } from './body.ts';

export const COUNTERS_REF: ResourceRef = { group: 'gatehouse.dev', resource: 'counters' };

/** Storage's addCounters, told who adds (counter-budget.ts bounds what a gateway identity may add). */
export interface CounterStore {
  addCounters(increments: CounterIncrement[], user: UserInfo): ReturnType<Storage['addCounters']>;
}

export async function serveCounters(
  req: IncomingMessage,
  store: CounterStore,
  user: UserInfo,
): Promise<CountersResponse> {
  const increments = parseCountersRequest(decodeBody(await readBody(req), req.headers['content-type'], 'the counters'));
  try {
    return { totals: await store.addCounters(increments, user) };
  } catch (err) {
    throw fromStorageError(err, COUNTERS_REF, '');
  }
}

/** The increments of a request body; a body that is not an object is 400, every bad field
 * is one cause of a 422. */
export function parseCountersRequest(body: unknown): CounterIncrement[] {
  if (!isObject(body))
    throw errors.badRequest('the request body for the counters must be a JSON object with an "increments" array');
  const list = body.increments;
  const problems: FieldError[] = [];
  if (list === undefined) problems.push({ type: 'FieldValueRequired', field: 'increments', message: 'Required value' });
  else if (!Array.isArray(list))
    problems.push({
      type: 'FieldValueTypeInvalid',
      field: 'increments',
      message: `Invalid value: ${describe(list)}: must be an array`,
    });
  else if (list.length > MAX_COUNTER_INCREMENTS)
    problems.push({
      type: 'FieldValueTooMany',
      field: 'increments',
      message: `Too many: ${list.length}: must have at most ${MAX_COUNTER_INCREMENTS} items`,
    });
  else for (const [i, item] of list.entries()) problems.push(...incrementProblems(item, `increments[${i}]`));
  if (problems.length) throw errors.invalid(COUNTERS_REF, 'Counters', '', problems);
  return (list as CounterIncrement[]).map(({ key, window, delta, expiresAt }) => ({ key, window, delta, expiresAt }));
}

function incrementProblems(item: unknown, path: string): FieldError[] {
  if (!isObject(item))
    return [
      { type: 'FieldValueTypeInvalid', field: path, message: `Invalid value: ${describe(item)}: must be an object` },
    ];
  const problems: FieldError[] = [];
  const { key } = item;
  if (key === undefined) problems.push({ type: 'FieldValueRequired', field: `${path}.key`, message: 'Required value' });
  else if (typeof key !== 'string' || key === '')
    problems.push({
      type: 'FieldValueInvalid',
      field: `${path}.key`,
      message: `Invalid value: ${describe(key)}: must be a non-empty string`,
    });
  else if (key.length > MAX_COUNTER_KEY_LENGTH)
    problems.push({
      type: 'FieldValueTooLong',
      field: `${path}.key`,
      message: `Too long: must have at most ${MAX_COUNTER_KEY_LENGTH} characters`,
    });
  for (const field of ['window', 'delta', 'expiresAt'] as const) {
    const value = item[field];
    if (value === undefined)
      problems.push({ type: 'FieldValueRequired', field: `${path}.${field}`, message: 'Required value' });
    else if (!Number.isSafeInteger(value) || (value as number) < 0) {
      problems.push({
        type: 'FieldValueInvalid',
        field: `${path}.${field}`,
        message: `Invalid value: ${describe(value)}: must be a non-negative integer`,
      });
    }
  }
  return problems;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as it appears in a message, kept short. */
function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
