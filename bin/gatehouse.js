#!/usr/bin/env node
// Runs the compiled CLI from dist/ when `npm run build` made it (an installed package or image ships only that);
// a checkout without a build runs the TypeScript sources through tsx, a development dependency.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
