// SetVolumeOwnership for a pod's fsGroup: groups, modes, setgid directories,
// links left alone, read-only volumes, and OnRootMismatch's short cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setVolumeOwnership } from '../../src/agent/volume-ownership.js';

const skip = process.getuid?.() === 0 ? false : 'needs root (chown to any group)';
const mode = (p: string) => lstatSync(p).mode & 0o7777;

function volume(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-ownership-'));
  chmodSync(dir, 0o777);
  mkdirSync(join(dir, 'sub'), { mode: 0o700 });
  writeFileSync(join(dir, 'sub', 'f'), 'x', { mode: 0o600 });
  symlinkSync('sub/f', join(dir, 'link'));
  return dir;
}

test('a writable volume: the group everywhere, group rw files, setgid searchable directories, links untouched', { skip }, () => {
  const dir = volume();
  try {
    setVolumeOwnership(dir, { fsGroup: 2000, readOnly: false });
    for (const p of [dir, join(dir, 'sub'), join(dir, 'sub', 'f')]) assert.equal(lstatSync(p).gid, 2000, p);
    assert.equal(mode(dir), 0o2777);
    assert.equal(mode(join(dir, 'sub')), 0o2770);
    assert.equal(mode(join(dir, 'sub', 'f')), 0o660);
    assert.equal(lstatSync(join(dir, 'link')).gid, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a read-only volume: group read only', { skip }, () => {
  const dir = volume();
  try {
    setVolumeOwnership(dir, { fsGroup: 2000, readOnly: true });
    assert.equal(mode(join(dir, 'sub')), 0o2750);
    assert.equal(mode(join(dir, 'sub', 'f')), 0o640);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('OnRootMismatch: a root that already matches stops the walk', { skip }, () => {
  const dir = volume();
  try {
    setVolumeOwnership(dir, { fsGroup: 2000, readOnly: false, changePolicy: 'OnRootMismatch' });
    assert.equal(lstatSync(join(dir, 'sub', 'f')).gid, 2000, 'a mismatched root: the whole volume');
    writeFileSync(join(dir, 'new'), 'y', { mode: 0o600 });
    setVolumeOwnership(dir, { fsGroup: 2000, readOnly: false, changePolicy: 'OnRootMismatch' });
    assert.equal(mode(join(dir, 'new')), 0o600, 'the root matched: nothing below it changed');
    setVolumeOwnership(dir, { fsGroup: 2000, readOnly: false });
    assert.equal(mode(join(dir, 'new')), 0o660, 'Always: every file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
