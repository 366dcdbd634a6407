// Progress and decisions of a benchmark run go to stderr, so stdout holds only the report.
export function say(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
