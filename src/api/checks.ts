// Semantic checks several strategies share; each returns field errors naming the value.
import type { FieldError } from './kind.ts';
import { tryParseDuration } from './duration.ts';
import { invalid } from './schema/object-meta.ts';

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function httpUrl(field: string, value: string): FieldError[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [invalid(field, value, 'must be an absolute http or https URL')];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return [invalid(field, value, 'must be an http or https URL')];
  if (url.username || url.password) return [invalid(field, value, 'must not contain credentials')];
  return [];
}

/** A duration the schema already accepted must also be above zero (rates, intervals). */
export function positiveDuration(field: string, value: string | undefined): FieldError[] {
  if (value === undefined) return [];
  const ms = tryParseDuration(value);
  return ms !== undefined && ms <= 0 ? [invalid(field, value, 'must be greater than zero')] : [];
}

/** HTTP field names (RFC 9110 section 5.1: a token). */
export function headerNames(field: string, names: Iterable<string>): FieldError[] {
  const errors: FieldError[] = [];
  for (const name of names)
    if (!HTTP_TOKEN.test(name)) errors.push(invalid(field, name, 'must be a valid HTTP header name'));
  return errors;
}
