// The data dir is its owner's alone, as kubeadm keeps its keys: the dir 0700,
// the database (and SQLite's -wal and -shm beside it), the lock, the keys
// and the kubeconfig 0600, also for a data dir made by someone else first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer } from './helpers/apiserver.js';

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

test('the data dir is 0700 and its database, lock and kubeconfig 0600', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-files-'));
  chmodSync(dataDir, 0o755); // as a user's mkdir would leave it
  const t = await startTestApiServer({ dataDir });
  try {
    assert.equal((await t.request('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'c' }, data: { a: 'b' } })).status, 201);
    assert.equal(mode(dataDir), '700');
    for (const file of ['state.db', 'state.db-wal', 'state.db-shm', 'kubesvc.lock', 'kubesvc.pid', 'kubeconfig']) {
      assert.ok(existsSync(join(dataDir, file)), file);
      assert.equal(mode(join(dataDir, file)), '600', file);
    }
  } finally {
    await t.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
