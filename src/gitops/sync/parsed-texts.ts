// Parses kept from one build of a Sync for its next: a revision that changes one file of a hundred
// parses that file, and the others' objects are the ones parsed before. Only the texts the last
// build read are kept, so what is held is bounded by one build. Reused objects are shared between
// builds: nothing downstream changes them (build places copies in namespaces, the apply labels copies).
import type { Manifest } from './manifest.ts';
import { parseManifests } from './parse.ts';

export class ParsedTexts {
  private kept = new Map<string, Manifest[]>();

  /** The parse of one build, and `keep`, called when the build succeeded, to keep what it read. */
  build(): { parse: typeof parseManifests; keep(): void } {
    const read = new Map<string, Manifest[]>();
    return {
      parse: (text, file, output) => {
        const key = JSON.stringify([file, output ?? null, text]);
        const manifests = this.kept.get(key) ?? read.get(key) ?? parseManifests(text, file, output);
        read.set(key, manifests);
        return manifests;
      },
      keep: () => {
        this.kept = read;
      },
    };
  }
}
