// The media types of the OCI image spec and Docker's schema 2, and the JSON
// documents they name (only the fields kubesvc reads).

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerSchema1Json: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** What containerd's resolver asks a registry for when resolving a reference. */
export const MANIFEST_ACCEPT = [MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.ociIndex, '*/*'].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The runtime part of an image's configuration (OCI image config "config"). */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: ImageRuntimeConfig;
  rootfs: { type: string; diff_ids: string[] };
}

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

export function isConfigMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociConfig || mediaType === MediaType.dockerConfig;
}

/** containerd's ref keys for content being written: "layer-sha256:…", "manifest-sha256:…". */
export function ingestRefKey(desc: Pick<Descriptor, 'mediaType' | 'digest'>): string {
  const mt = desc.mediaType;
  if (isManifestMediaType(mt)) return `manifest-${desc.digest}`;
  if (isIndexMediaType(mt)) return `index-${desc.digest}`;
  if (isConfigMediaType(mt)) return `config-${desc.digest}`;
  if (/layer|rootfs\.diff/.test(mt)) return `layer-${desc.digest}`;
  return `unknown-${desc.digest}`;
}

/** A manifest or index from its JSON, whatever media type the registry labelled it with. */
export function parseManifestDocument(body: Buffer, mediaType: string): { index?: ImageIndex; manifest?: ImageManifest; mediaType: string } {
  const doc = JSON.parse(body.toString('utf8')) as Partial<ImageIndex & ImageManifest> & { mediaType?: string };
  const mt = doc.mediaType || mediaType;
  if (mt === MediaType.dockerSchema1 || mt === MediaType.dockerSchema1Json || doc.schemaVersion === 1) {
    throw new Error(`media type "${MediaType.dockerSchema1}" is no longer supported since containerd v2.0, please rebuild the image as "${MediaType.dockerManifest}" or "${MediaType.ociManifest}": not implemented`);
  }
  if (isIndexMediaType(mt) || (Array.isArray(doc.manifests) && !doc.config)) return { index: doc as ImageIndex, mediaType: isIndexMediaType(mt) ? mt : MediaType.ociIndex };
  if (doc.config && Array.isArray(doc.layers)) return { manifest: doc as ImageManifest, mediaType: isManifestMediaType(mt) ? mt : MediaType.ociManifest };
  throw new Error(`unsupported media type ${mt || '(none)'}: not implemented`);
}
