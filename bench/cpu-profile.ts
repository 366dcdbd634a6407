// Where a Gatehouse process spent its CPU: summarises a .cpuprofile written by
// `node --cpu-prof` (bench/gateway.ts --cpu-prof DIR writes one per gateway).
// Usage: npx tsx bench/cpu-profile.ts FILE.cpuprofile [--own /src/gateway/] [--top 15]
import { parseArgs } from 'node:util';
import { formatProfile, summariseProfile } from './lib/cpu-profile.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { own: { type: 'string', default: '/src/' }, top: { type: 'string', default: '15' } },
});
if (positionals.length !== 1) throw new Error('usage: bench/cpu-profile.ts FILE.cpuprofile [--own REGEX] [--top N]');
process.stdout.write(
  `${formatProfile(await summariseProfile(positionals[0], new RegExp(values.own), Number(values.top)))}\n`,
);
