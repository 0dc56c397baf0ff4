// npm run bench: every benchmark, one after another.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// oci-pods, pods, proxy-netns, sync and up need root (network namespaces).
for (const name of ['apiserver', 'apiserver-paging', 'etcd-store', 'crd', 'controllers', 'proxy', 'dns', 'dashboard', ...(process.getuid?.() === 0 ? ['oci-pods', 'pods', 'proxy-netns', 'sync', 'programming', 'up'] : [])]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
