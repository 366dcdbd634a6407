/** metav1.Time text: RFC 3339 in UTC with whole seconds, as Kubernetes writes it. */
export function timestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}
