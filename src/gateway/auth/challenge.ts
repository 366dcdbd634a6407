// WWW-Authenticate challenges (RFC 9110 section 11.6.1) sent with every 401.
//
// Parameter values are quoted strings limited to the characters RFC 6750 section 3 allows
// in error_description (printable ASCII without '"' and '\'); anything else becomes "?",
// so a message taken from a library can never break the header.
export function challenge(scheme: string, params: Record<string, string>): string {
  const rendered = Object.entries(params).map(
    ([name, value]) => `${name}="${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?')}"`,
  );
  return `${scheme} ${rendered.join(', ')}`;
}
