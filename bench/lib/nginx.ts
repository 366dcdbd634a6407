// nginx as a reverse-proxy peer: one worker process, no access log, HTTP/1.1 keep-alive to
// the upstream (the configuration an nginx deployment in front of an API would use), and
// connections never closed after a request count (the Node peers do not do that either).
// Every file it writes (pid, error log, temp paths) is under `dir`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Child, Processes } from './processes.ts';

export interface NginxOptions {
  binary: string;
  dir: string;
  port: number;
  /** Upstream as host:port. */
  upstream: string;
  prefix: readonly string[];
}

export async function startNginx(
  processes: Processes,
  { binary, dir, port, upstream, prefix }: NginxOptions,
): Promise<Child> {
  await mkdir(join(dir, 'temp'), { recursive: true });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${join(dir, 'temp', t)};`)
    .join('\n');
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
${temp}
  upstream backend {
    server ${upstream};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  // -e: the error log before the configuration is read (nginx ≥ 1.19.5), so nothing is
  // written to the system's log directory.
  return processes.start('nginx', [...prefix, binary, '-p', dir, '-e', join(dir, 'error.log'), '-c', conf]);
}
