// Every secret value the controller has read (private keys, passwords, tokens), so that no
// log line, status message or Event can carry one: messages pass through redact() before
// they leave the process. Values are remembered whole and line by line, since tools quote
// single lines of a key file.
const MIN_LENGTH = 4;

export class Redactor {
  private readonly values = new Set<string>();
  /** The values longest first, so a whole key is replaced before any of its lines; sorted
   * when a value is added, not per message. */
  private ordered: string[] = [];

  remember(value: string): void {
    const before = this.values.size;
    for (const piece of [value, ...value.split(/\r?\n/)]) {
      const trimmed = piece.trim();
      if (trimmed.length >= MIN_LENGTH) this.values.add(trimmed);
    }
    if (this.values.size !== before) this.ordered = [...this.values].sort((a, b) => b.length - a.length);
  }

  redact(message: string): string {
    let out = message;
    for (const value of this.ordered) {
      if (out.includes(value)) out = out.split(value).join('***');
    }
    return out;
  }
}
