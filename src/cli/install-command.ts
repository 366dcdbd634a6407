// `gatehouse install` and its options; the install itself (install/install.ts) is imported when it runs.
import type { Command } from 'commander';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { InstallFlags } from './install/install.ts';
import { IMAGE } from './install/names.ts';

function defaultKubeconfig(): string {
  return process.env.KUBECONFIG?.split(delimiter).find(Boolean) ?? join(homedir(), '.kube', 'config');
}

export function registerInstallCommand(program: Command): void {
  program
    .command('install')
    .description("install Gatehouse into a cluster from deploy/, with the API server's serving certificate")
    .option('--dry-run', 'print the objects as YAML instead of applying them (with a new certificate)')
    .option('--overlay <name>', 'apply deploy/overlays/NAME instead of deploy/ (cert-manager, postgres)')
    .option('--image <ref>', `Gatehouse's image (default: ${IMAGE} of this version)`)
    .option('--kubeconfig <file>', "the cluster's kubeconfig ($KUBECONFIG, else ~/.kube/config)", defaultKubeconfig())
    .action(async (flags: InstallFlags) => (await import('./install/install.ts')).install(flags));
}
