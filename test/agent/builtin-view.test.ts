// What built-in images see of the host (src/agent/builtin-view.ts): the
// system directories, the node installation and the kubesvc package,
// never the data dir or the agent's state; a package holding the data dir
// is exposed by its other entries. And the Pulled event of a built-in image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinHostView, nodeInstallation, packageRoot } from '../../src/agent/builtin-view.js';
import { repoRoot } from '../helpers/cli.js';
import { builtinPulledMessage } from '../../src/agent/runtime.js';
import { oomScoreFloor } from '../../src/agent/oci-launcher.js';

test('the package the programs run from is this checkout; the node binary is exposed with its installation', () => {
  assert.equal(packageRoot(), realpathSync(repoRoot));
  assert.equal(nodeInstallation('/nonexistent/node-v20/bin/node'), '/nonexistent/node-v20');
  assert.equal(nodeInstallation('/nonexistent/node/node'), '/nonexistent/node');
  const view = builtinHostView({ hide: [] });
  const covered = (p: string) => view.expose.some((e) => p === e || p.startsWith(`${e}/`));
  assert.ok(covered(realpathSync(process.execPath)), `${process.execPath} in ${view.expose.join(' ')}`);
  assert.ok(covered(realpathSync(repoRoot)));
  assert.ok(view.expose.includes('/usr') && view.expose.includes('/etc'));
});

test('a package holding the data dir is exposed by its other entries: directories as overlays, files as read-only binds, links left out', () => {
  const pkg = realpathSync(mkdtempSync(join(tmpdir(), 'kubesvc-view-')));
  try {
    mkdirSync(join(pkg, 'dist'));
    mkdirSync(join(pkg, 'node_modules/tsx'), { recursive: true });
    mkdirSync(join(pkg, 'state/.kubesvc/nodes'), { recursive: true });
    mkdirSync(join(pkg, 'state/other'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"type":"module"}');
    symlinkSync('dist', join(pkg, 'link'));
    const dataDir = join(pkg, 'state/.kubesvc');
    const view = builtinHostView({ hide: [dataDir, join(dataDir, 'nodes/node-1')], packageRoot: pkg });
    const ours = view.expose.filter((e) => e.startsWith(pkg));
    assert.deepEqual(ours, [join(pkg, 'dist'), join(pkg, 'node_modules'), join(pkg, 'state/other')]);
    assert.deepEqual(view.binds.filter((b) => b.source.startsWith(pkg)), [{ source: join(pkg, 'package.json'), destination: join(pkg, 'package.json'), readOnly: true }]);
    assert.ok(view.hide.includes(dataDir));
    assert.ok(!view.expose.some((e) => dataDir === e || dataDir.startsWith(`${e}/`)), 'no overlay holds the data dir');
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});

test('the Pulled event of a built-in image says what implements it', () => {
  assert.equal(builtinPulledMessage('nginx', 'nginx'), 'Container image "nginx" already present on machine (built into kubesvc: nginx)');
  assert.equal(builtinPulledMessage('busybox', undefined), 'Container image "busybox" already present on machine (built into kubesvc: the node\'s programs)');
});

test('the OOM score floor is this process\'s own without CAP_SYS_RESOURCE, else none', () => {
  const floor = oomScoreFloor();
  assert.ok(floor === -1000 || Number.isInteger(floor));
});
