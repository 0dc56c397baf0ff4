// The host set-up's pure parts: which package has each program under each
// package manager, the command shown and run, and the switch that turns
// installing off. test/e2e/host-setup.test.ts drives `up` itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectPackageManager, installCommand } from '../src/host/install.js';
import { clusterExtras, missingTools, nodeTools, packagesFor, proxyModeTools } from '../src/host/tools.js';
import { installDisabledByEnv } from '../src/cli/host-setup.js';

test('each package once, in the order of the programs that need them, per package manager', () => {
  const tools = [...nodeTools, ...proxyModeTools.nftables!, ...clusterExtras];
  assert.deepEqual(packagesFor(tools, 'apt-get'), ['iproute2', 'util-linux', 'procps', 'runc', 'attr', 'nftables', 'conntrack', 'iptables', 'curl', 'dnsutils', 'crun']);
  assert.deepEqual(packagesFor(tools, 'dnf'), ['iproute', 'util-linux', 'procps-ng', 'runc', 'attr', 'nftables', 'conntrack-tools', 'iptables-nft', 'curl', 'bind-utils', 'crun']);
  assert.deepEqual(packagesFor(tools, 'apk'), ['iproute2', 'util-linux', 'procps-ng', 'runc', 'attr', 'nftables', 'conntrack-tools', 'iptables', 'curl', 'bind-tools', 'crun']);
});

test('the install command of each package manager', () => {
  assert.deepEqual(installCommand('apt-get', ['iptables', 'conntrack']), ['apt-get', 'install', '-y', '--no-install-recommends', 'iptables', 'conntrack']);
  assert.deepEqual(installCommand('dnf', ['iptables-nft']), ['dnf', 'install', '-y', 'iptables-nft']);
  assert.deepEqual(installCommand('apk', ['iptables']), ['apk', 'add', '--no-cache', 'iptables']);
});

test('programs and the package manager are looked for on PATH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-path-'));
  try {
    symlinkSync(process.execPath, join(dir, 'ip'));
    symlinkSync(process.execPath, join(dir, 'dnf'));
    assert.deepEqual(missingTools([...nodeTools, ...nodeTools], dir).map((t) => t.name), ['setpriv', 'unshare', 'nsenter', 'sysctl', 'runc', 'setfattr']);
    assert.equal(detectPackageManager(dir), 'dnf');
    assert.equal(detectPackageManager(join(dir, 'nothing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KUBESVC_NO_INSTALL turns installing off unless empty, 0 or false', () => {
  for (const v of ['1', 'true', 'yes']) assert.equal(installDisabledByEnv({ KUBESVC_NO_INSTALL: v }), true, v);
  for (const v of [undefined, '', '0', 'false', 'FALSE']) assert.equal(installDisabledByEnv({ KUBESVC_NO_INSTALL: v }), false, String(v));
});
