// `up --egress auto|off` (`--no-egress` = off): whether pods reach addresses
// beyond the cluster (../agent/egress.ts). Kept in DATA_DIR/egress-settings.json
// (0600) as the image settings are (./image-settings.ts): a flag given
// replaces what is kept, a flag left out keeps it; the default is auto (on
// when the machine has a default route).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EGRESS_SETTINGS, type EgressSetting } from '../agent/egress.js';
import { errorMessage } from '../util/errors.js';
import { UsageError } from './args.js';

export const egressFlags = {
  egress: { type: 'string' },
  'no-egress': { type: 'boolean' },
} as const;

const isSetting = (v: unknown): v is EgressSetting => typeof v === 'string' && (EGRESS_SETTINGS as readonly string[]).includes(v);

export function egressSettingsPath(dataDir: string): string {
  return join(dataDir, 'egress-settings.json');
}

/** --egress auto|off and --no-egress; undefined: neither given. */
export function parseEgressFlags(values: { egress?: string; 'no-egress'?: boolean }): EgressSetting | undefined {
  if (values['no-egress']) {
    if (values.egress !== undefined && values.egress !== 'off') throw new UsageError(`--no-egress and --egress ${values.egress} contradict each other`);
    return 'off';
  }
  if (values.egress === undefined) return undefined;
  if (!isSetting(values.egress)) throw new UsageError(`--egress must be ${EGRESS_SETTINGS.join(' or ')}, got "${values.egress}"`);
  return values.egress;
}

export function readEgressSetting(dataDir: string): EgressSetting {
  const path = egressSettingsPath(dataDir);
  if (!existsSync(path)) return 'auto';
  try {
    const egress = (JSON.parse(readFileSync(path, 'utf8')) as { egress?: unknown }).egress ?? 'auto';
    if (!isSetting(egress)) throw new Error(`egress must be ${EGRESS_SETTINGS.join(' or ')}, got ${JSON.stringify(egress)}`);
    return egress;
  } catch (e) {
    throw new UsageError(`${path}: ${errorMessage(e)} (fix it, or remove it and give 'up' --egress again)`);
  }
}

/** `up`: the kept setting, or the flag's, kept again when given. */
export function applyEgressFlag(dataDir: string, flag: EgressSetting | undefined): EgressSetting {
  if (flag === undefined) return readEgressSetting(dataDir);
  const path = egressSettingsPath(dataDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify({ egress: flag }, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return flag;
}

/** The nodes' resolv.conf (the kubelet's --resolv-conf), written by `up` for the egress it runs with. */
export function nodeResolvConfPath(dataDir: string): string {
  return join(dataDir, 'node-resolv.conf');
}
