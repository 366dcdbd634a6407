import assert from 'node:assert/strict';

/** Reads a watch stream as events, one JSON object per line. */
export async function* watchEvents<T>(res: Response): AsyncGenerator<{ type: string; object: T }> {
  assert.equal(res.status, 200);
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim()) yield JSON.parse(line);
    }
  }
}
