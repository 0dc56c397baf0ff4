// Small images built in-process for the image tests: layers as tar (and
// gzip) with any entries, an image config with Entrypoint/Cmd/Env/
// WorkingDir/ExposedPorts, manifests and manifest lists in OCI or Docker
// media types; pushed to a registry with the distribution API (blob upload
// POST + PUT, manifest PUT, answering 401s as a client must), or written as
// a `docker save` tarball or an OCI image layout archive.
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { digestOf } from '../../src/oci/digest.js';
import { MediaType, type Descriptor, type ImageRuntimeConfig, type Platform } from '../../src/oci/media-types.js';
import { basicAuthorization, parseChallenges, type RegistryCredentials } from '../../src/oci/registry-auth.js';
import { TarWriter, type TarInput } from '../../src/oci/tar-writer.js';

export type LayerEntry = TarInput & { data?: Buffer | string };

export interface BuiltLayer {
  tar: Buffer;
  /** The blob as pushed: gzip of the tar unless built uncompressed. */
  blob: Buffer;
  desc: Descriptor;
  diffId: string;
}

export interface BuiltImage {
  layers: BuiltLayer[];
  config: Buffer;
  configDesc: Descriptor;
  manifest: Buffer;
  desc: Descriptor;
  platform: Platform;
}

export interface BuiltIndex {
  data: Buffer;
  desc: Descriptor;
  images: BuiltImage[];
}

export function buildLayer(entries: LayerEntry[], opts: { gzip?: boolean; docker?: boolean; gnuLongNames?: boolean } = {}): BuiltLayer {
  const w = new TarWriter({ gnuLongNames: opts.gnuLongNames });
  for (const { data, ...e } of entries) w.add(e, typeof data === 'string' ? Buffer.from(data) : data);
  const tar = w.end();
  const gzip = opts.gzip ?? true;
  const blob = gzip ? gzipSync(tar) : tar;
  const mediaType = opts.docker ? MediaType.dockerLayerGzip : gzip ? MediaType.ociLayerGzip : MediaType.ociLayer;
  return { tar, blob, desc: { mediaType, digest: digestOf(blob), size: blob.length }, diffId: digestOf(tar) };
}

export const INDEX_HTML = '<h1>hello from a kubesvc test image</h1>\n';

/** busybox-static's binary when installed (Debian package busybox-static), else a stand-in file. */
function busyboxBinary(): Buffer {
  return existsSync('/bin/busybox') ? readFileSync('/bin/busybox') : Buffer.from('#!/bin/sh\n');
}

/** A layer with /bin/busybox, /bin/sh → busybox and /www/index.html. */
export function webLayer(): BuiltLayer {
  return buildLayer([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', type: 'file', mode: 0o755, data: busyboxBinary() },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'www/', type: 'directory' },
    { name: 'www/index.html', type: 'file', data: INDEX_HTML },
  ]);
}

export const WEB_CONFIG: ImageRuntimeConfig = {
  Entrypoint: ['/bin/busybox'],
  Cmd: ['httpd', '-f', '-p', '8080', '-h', '/www'],
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello'],
  WorkingDir: '/www',
  ExposedPorts: { '8080/tcp': {} },
};

export function buildImage(layers: BuiltLayer[], opts: { config?: ImageRuntimeConfig; platform?: Platform; docker?: boolean; label?: string } = {}): BuiltImage {
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created: '2024-01-01T00:00:00Z',
      config: { ...(opts.config ?? WEB_CONFIG), Labels: opts.label ? { test: opts.label } : undefined },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const configDesc = { mediaType: opts.docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: digestOf(config), size: config.length };
  const mediaType = opts.docker ? MediaType.dockerManifest : MediaType.ociManifest;
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config: configDesc, layers: layers.map((l) => l.desc) }, null, 2));
  return { layers, config, configDesc, manifest, desc: { mediaType, digest: digestOf(manifest), size: manifest.length }, platform };
}

export function buildIndex(images: BuiltImage[], opts: { docker?: boolean } = {}): BuiltIndex {
  const mediaType = opts.docker ? MediaType.dockerManifestList : MediaType.ociIndex;
  const data = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests: images.map((i) => ({ ...i.desc, platform: i.platform })) }, null, 2));
  return { data, desc: { mediaType, digest: digestOf(data), size: data.length }, images };
}

/** fetch that answers a registry's 401 with `creds` (Basic, or a push+pull token from a Bearer challenge's realm). */
async function authedFetch(url: string, init: RequestInit, repo: string, creds?: RegistryCredentials): Promise<Response> {
  const res = await fetch(url, init);
  if (res.status !== 401) return res;
  await res.body?.cancel();
  const c = parseChallenges(res.headers.get('www-authenticate'))[0];
  let authorization = creds ? basicAuthorization(creds) : '';
  if (c?.scheme === 'bearer') {
    const t = new URL(c.params.realm!);
    t.searchParams.set('service', c.params.service ?? '');
    t.searchParams.set('scope', `repository:${repo}:pull,push`);
    const tr = await fetch(t, { headers: creds ? { authorization } : {} });
    authorization = `Bearer ${((await tr.json()) as { token: string }).token}`;
  }
  return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization } });
}

async function expectStatus(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res;
}

export async function pushBlob(registryUrl: string, repo: string, blob: Buffer, creds?: RegistryCredentials): Promise<void> {
  const start = await expectStatus(await authedFetch(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST' }, repo, creds), 202, 'blob upload');
  const location = new URL(start.headers.get('location')!, registryUrl);
  location.searchParams.set('digest', digestOf(blob));
  await expectStatus(await authedFetch(location.href, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } }, repo, creds), 201, 'blob put');
}

export async function pushManifest(registryUrl: string, repo: string, reference: string, data: Buffer, mediaType: string, creds?: RegistryCredentials): Promise<void> {
  await expectStatus(await authedFetch(`${registryUrl}/v2/${repo}/manifests/${reference}`, { method: 'PUT', body: data, headers: { 'content-type': mediaType } }, repo, creds), 201, 'manifest put');
}

/** Pushes an image (or a manifest list and its images) as repo:tag. */
export async function pushImage(registryUrl: string, repo: string, tag: string, image: BuiltImage | BuiltIndex, creds?: RegistryCredentials): Promise<void> {
  const images = 'images' in image ? image.images : [image];
  for (const img of images) {
    for (const l of img.layers) await pushBlob(registryUrl, repo, l.blob, creds);
    await pushBlob(registryUrl, repo, img.config, creds);
    await pushManifest(registryUrl, repo, 'images' in image ? img.desc.digest : tag, img.manifest, img.desc.mediaType, creds);
  }
  if ('images' in image) await pushManifest(registryUrl, repo, tag, image.data, image.desc.mediaType, creds);
}

/** A `docker save` tarball (Docker before 25): manifest.json, repositories, <config hex>.json, <id>/layer.tar uncompressed. */
export function dockerSaveTar(images: Array<{ image: BuiltImage; repoTags: string[] }>): Buffer {
  const w = new TarWriter();
  const manifest: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, repoTags } of images) {
    const configName = `${image.configDesc.digest.slice(7)}.json`;
    w.add({ name: configName, type: 'file' }, image.config);
    const layerNames = image.layers.map((l) => {
      const id = digestOf(l.diffId).slice(7);
      w.add({ name: `${id}/`, type: 'directory' });
      w.add({ name: `${id}/VERSION`, type: 'file' }, Buffer.from('1.0'));
      w.add({ name: `${id}/layer.tar`, type: 'file' }, l.tar);
      return `${id}/layer.tar`;
    });
    manifest.push({ Config: configName, RepoTags: repoTags, Layers: layerNames });
    for (const t of repoTags) {
      const colon = t.lastIndexOf(':');
      (repositories[t.slice(0, colon)] ??= {})[t.slice(colon + 1)] = layerNames[layerNames.length - 1]!.split('/')[0]!;
    }
  }
  w.add({ name: 'manifest.json', type: 'file' }, Buffer.from(JSON.stringify(manifest)));
  w.add({ name: 'repositories', type: 'file' }, Buffer.from(JSON.stringify(repositories)));
  return w.end();
}

/** An OCI image layout archive with one image (or index) named by `annotations` on its index.json entry. */
export function ociArchiveTar(image: BuiltImage | BuiltIndex, annotations: Record<string, string>): Buffer {
  const w = new TarWriter();
  w.add({ name: 'oci-layout', type: 'file' }, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  const blobs = new Map<string, Buffer>();
  const images = 'images' in image ? image.images : [image];
  if ('images' in image) blobs.set(image.desc.digest, image.data);
  for (const img of images) {
    blobs.set(img.desc.digest, img.manifest);
    blobs.set(img.configDesc.digest, img.config);
    for (const l of img.layers) blobs.set(l.desc.digest, l.blob);
  }
  w.add({ name: 'blobs/', type: 'directory' }).add({ name: 'blobs/sha256/', type: 'directory' });
  for (const [digest, data] of blobs) w.add({ name: `blobs/sha256/${digest.slice(7)}`, type: 'file' }, data);
  w.add({ name: 'index.json', type: 'file' }, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ ...image.desc, annotations }] })));
  return w.end();
}
