// How a cluster's nodes get their images, as `up` is told: --images
// builtin|registry (../agent/image-source.ts) and --registry-mirror
// NAME=URL (../oci/registry-mirrors.ts). Kept in DATA_DIR/image-settings.json
// (0600), a node's runtime configuration as containerd's files are on a
// node, so `up` again and `kubesvc agent` run the nodes the same way: a flag
// given replaces what is kept (as --proxy-mode rewrites the kube-proxy
// ConfigMap), a flag left out keeps it — the mirrors included, so a cluster
// pulling through a loopback mirror never starts pulling from the registry
// itself after a restart. `--registry-mirror none` forgets the mirrors.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE_MODES, isImageMode, type ImageMode } from '../agent/image-source.js';
import { parseRegistryMirror, RegistryMirrorError, type RegistryMirrors } from '../oci/registry-mirrors.js';
import { errorMessage } from '../util/errors.js';
import { UsageError } from './args.js';

export interface ImageSettings {
  images: ImageMode;
  registryMirrors: RegistryMirrors;
}

/** What the flags ask for; undefined: not given. */
export interface ImageFlags {
  images?: ImageMode;
  registryMirrors?: RegistryMirrors;
}

export const defaultImageSettings: ImageSettings = { images: 'builtin', registryMirrors: {} };

export function imageSettingsPath(dataDir: string): string {
  return join(dataDir, 'image-settings.json');
}

/** --images: builtin or registry. */
export function parseImagesFlag(value: string | undefined): ImageMode | undefined {
  if (value === undefined) return undefined;
  if (!isImageMode(value)) throw new UsageError(`--images must be ${IMAGE_MODES.join(' or ')}, got "${value}"`);
  return value;
}

/** The --registry-mirror values (repeatable): NAME=URL each, one per registry; "none" alone: no mirrors. */
export function parseRegistryMirrorFlags(values: readonly string[] | undefined): RegistryMirrors | undefined {
  if (!values?.length) return undefined;
  if (values.includes('none')) {
    if (values.length > 1) throw new UsageError('--registry-mirror none forgets the mirrors: it goes alone');
    return {};
  }
  const mirrors: Record<string, string> = {};
  for (const value of values) {
    let registry: string;
    let url: string;
    try {
      [registry, url] = parseRegistryMirror(value);
    } catch (e) {
      if (e instanceof RegistryMirrorError) throw new UsageError(`--registry-mirror: ${e.message}`);
      throw e;
    }
    if (Object.hasOwn(mirrors, registry)) throw new UsageError(`--registry-mirror: ${registry} is given two mirrors (${mirrors[registry]}, ${url}); a registry has one`);
    mirrors[registry] = url;
  }
  return mirrors;
}

/** The settings kept in the data dir, else the defaults; a file that is not theirs is a clear error. */
export function readImageSettings(dataDir: string): ImageSettings {
  const path = imageSettingsPath(dataDir);
  if (!existsSync(path)) return defaultImageSettings;
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<keyof ImageSettings, unknown>>;
    const images = doc.images ?? 'builtin';
    if (typeof images !== 'string' || !isImageMode(images)) throw new Error(`images must be ${IMAGE_MODES.join(' or ')}, got ${JSON.stringify(images)}`);
    const kept = doc.registryMirrors ?? {};
    if (typeof kept !== 'object' || kept === null || Array.isArray(kept)) throw new Error('registryMirrors must be an object of NAME: URL');
    const registryMirrors = parseRegistryMirrorFlags(Object.entries(kept).map(([name, url]) => `${name}=${String(url)}`)) ?? {};
    return { images, registryMirrors };
  } catch (e) {
    throw new UsageError(`${path}: ${errorMessage(e)} (fix it, or remove it and give 'up' --images and --registry-mirror again)`);
  }
}

/** The flags over what is kept. */
export function mergeImageSettings(kept: ImageSettings, flags: ImageFlags): ImageSettings {
  return { images: flags.images ?? kept.images, registryMirrors: flags.registryMirrors ?? kept.registryMirrors };
}

/** Keeps the settings in the data dir (written whole, then renamed into place). */
export function saveImageSettings(dataDir: string, settings: ImageSettings): void {
  const path = imageSettingsPath(dataDir);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** `up`: the kept settings with the flags over them, kept again when a flag was given. */
export function applyImageFlags(dataDir: string, flags: ImageFlags): ImageSettings {
  const settings = mergeImageSettings(readImageSettings(dataDir), flags);
  if (flags.images !== undefined || flags.registryMirrors !== undefined) saveImageSettings(dataDir, settings);
  return settings;
}

/** One line of the `up` screen: where the images come from. */
export function describeImageSettings(s: ImageSettings): string {
  const mirrors = Object.entries(s.registryMirrors).map(([name, url]) => `${name} → ${url}`);
  const source =
    s.images === 'builtin'
      ? 'built in: the tutorial images kubesvc implements run offline, others are pulled (--images registry pulls them all)'
      : 'pulled: every workload image from its registry (--images registry; kube-proxy and coredns stay built in)';
  return mirrors.length ? `${source}\n               mirrors: ${mirrors.join(', ')}` : source;
}
