// The joining side of TLS bootstrap, as `kubeadm join` and the kubelet do it:
// 1. token discovery (kubeadm's discovery/token): cluster-info is read from
//    kube-public without credentials and without trusting the server; its
//    kubeconfig must carry the detached JWS signature of the token's id,
//    made with the token's secret, and its CA must match a pinned
//    --discovery-token-ca-cert-hash; cluster-info is then read again over
//    TLS verified with that CA and must be the same;
// 2. the kubelet's bootstrap (client-go's certificate/csr): a new ECDSA P-256
//    key, a CertificateSigningRequest for system:node:<name> in
//    system:nodes with signer kubernetes.io/kube-apiserver-client-kubelet,
//    created as the token's user (system:bootstrap:<id>), then waited on
//    until it is issued (or denied, or failed);
// 3. a kubeconfig with the node's client certificate (kubelet.conf).
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { createCertificateRequest } from '../apiserver/pki/pkcs10.js';
import { kubeconfigText } from '../apiserver/kubeconfig.js';
import { caCertHash, readClusterInfoKubeconfig } from '../auth/bootstrap-token/cluster-info.js';
import { detachedTokenIsValid } from '../auth/bootstrap-token/jws.js';
import { clusterInfo, parseToken } from '../auth/bootstrap-token/token.js';
import { createTransport, type Transport } from './transport.js';

export interface TLSBootstrapOptions {
  /** https://host:port of the API server (kubeadm join's argument). */
  server: string;
  /** <id>.<secret>. */
  token: string;
  /** sha256:<hex> pins of the CA's public key; empty means unsafe (kubeadm's --discovery-token-unsafe-skip-ca-verification). */
  caCertHashes: string[];
  nodeName: string;
  /** Where to write the node's kubeconfig (0600); not written when unset. */
  kubeconfigPath?: string;
  /** spec.expirationSeconds of the request. */
  expirationSeconds?: number;
  /** How long to wait for the certificate (default 5 min, as the kubelet's bootstrap). */
  timeoutMs?: number;
}

export interface TLSBootstrapResult {
  server: string;
  caCertPem: string;
  certPem: string;
  keyPem: string;
  csrName: string;
  kubeconfig: string;
}

/** Why a join cannot go on; the message is for the person running it. */
export class TLSBootstrapError extends Error {}

const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const clusterInfoPath = `/api/v1/namespaces/${clusterInfo.namespace}/configmaps/${clusterInfo.name}`;

async function getJSON(transport: Transport, path: string): Promise<{ status: number; object: Record<string, unknown>; body: string }> {
  const res = await transport.request('GET', path);
  let object: Record<string, unknown> = {};
  try {
    object = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    /* not JSON: reported by status */
  }
  return { status: res.status, object, body: res.body };
}

/** Token discovery: the server and CA the token vouches for. */
export async function discoverClusterInfo(opts: Pick<TLSBootstrapOptions, 'server' | 'token' | 'caCertHashes'>): Promise<{ server: string; caCertPem: string; kubeconfig: string }> {
  let token: { id: string; secret: string };
  try {
    token = parseToken(opts.token);
  } catch (e) {
    throw new TLSBootstrapError((e as Error).message);
  }
  const insecure = createTransport({ server: opts.server, insecureSkipTLSVerify: true, userAgent: 'kubesvc-join' });
  let info: Awaited<ReturnType<typeof getJSON>>;
  try {
    info = await getJSON(insecure, clusterInfoPath);
  } catch (e) {
    throw new TLSBootstrapError(`failed to request the cluster-info ConfigMap: ${(e as Error).message}`);
  } finally {
    insecure.close();
  }
  if (info.status !== 200) throw new TLSBootstrapError(`failed to request the cluster-info ConfigMap: ${(info.object.message as string | undefined) ?? `HTTP ${info.status}`}`);
  const data = (info.object.data ?? {}) as Record<string, string>;
  const kubeconfig = data[clusterInfo.kubeconfigKey];
  if (kubeconfig === undefined) throw new TLSBootstrapError(`there is no ${clusterInfo.kubeconfigKey} key in the ${clusterInfo.name} ConfigMap. This API Server isn't set up for token bootstrap, can't connect`);
  const signature = data[clusterInfo.jwsKeyPrefix + token.id];
  if (signature === undefined) {
    throw new TLSBootstrapError(`token id ${JSON.stringify(token.id)} is invalid for this cluster or it has expired. Use "kubesvc token create" on the control-plane node to create a new valid token`);
  }
  if (!detachedTokenIsValid(signature, kubeconfig, token.id, token.secret)) {
    throw new TLSBootstrapError(`failed to verify JWS signature of received cluster info object, can't trust this API Server`);
  }
  let cluster: { server: string; caCertPem: string };
  try {
    cluster = readClusterInfoKubeconfig(kubeconfig);
  } catch (e) {
    throw new TLSBootstrapError(`couldn't parse the kubeconfig file in the ${clusterInfo.name} ConfigMap: ${(e as Error).message}`);
  }
  if (opts.caCertHashes.length) {
    const hash = caCertHash(cluster.caCertPem);
    if (!opts.caCertHashes.includes(hash)) {
      throw new TLSBootstrapError(`cluster CA found in ${clusterInfo.name} ConfigMap is invalid: none of the public keys ${JSON.stringify(hash)} are pinned`);
    }
  }
  // Now trusted: read cluster-info again with the CA, and check it is what was signed.
  const secure = createTransport({ server: opts.server, ca: cluster.caCertPem, userAgent: 'kubesvc-join' });
  try {
    const again = await getJSON(secure, clusterInfoPath);
    if (((again.object.data ?? {}) as Record<string, string>)[clusterInfo.kubeconfigKey] !== kubeconfig) {
      throw new TLSBootstrapError(`failed to securely read the ${clusterInfo.name} ConfigMap: it is not the one the token signed`);
    }
  } catch (e) {
    if (e instanceof TLSBootstrapError) throw e;
    throw new TLSBootstrapError(`failed to securely read the ${clusterInfo.name} ConfigMap with the pinned CA: ${(e as Error).message}`);
  } finally {
    secure.close();
  }
  return { ...cluster, kubeconfig };
}

/** The whole bootstrap: discovery, a signed client certificate for system:node:<nodeName>, its kubeconfig. */
export async function tlsBootstrap(opts: TLSBootstrapOptions): Promise<TLSBootstrapResult> {
  const cluster = await discoverClusterInfo(opts);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const request = createCertificateRequest({ commonName: `system:node:${opts.nodeName}`, organizations: ['system:nodes'], privateKey });
  // The server this machine reached, not cluster-info's (kubeadm's controlPlaneEndpoint): a server's own
  // bind address there may be its loopback, while the one the join named is known to answer from here.
  const transport = createTransport({ server: opts.server, ca: cluster.caCertPem, token: () => opts.token, userAgent: 'kubesvc-join' });
  try {
    const body = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { generateName: 'csr-' },
      spec: {
        request: Buffer.from(request).toString('base64'),
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        // An ECDSA key: no key encipherment (the kubelet's usages for its key type).
        usages: ['digital signature', 'client auth'],
        ...(opts.expirationSeconds ? { expirationSeconds: opts.expirationSeconds } : {}),
      },
    };
    const created = await transport.request('POST', csrPath, { body });
    if (created.status !== 201) {
      const message = (() => {
        try {
          return (JSON.parse(created.body) as { message?: string }).message;
        } catch {
          return undefined;
        }
      })();
      throw new TLSBootstrapError(`cannot create certificate signing request: ${message ?? `HTTP ${created.status}`}`);
    }
    const csrName = (JSON.parse(created.body) as CertificateSigningRequest).metadata!.name!;
    const certPem = await waitForCertificate(transport, csrName, opts.timeoutMs ?? 5 * 60_000);
    const kubeconfig = kubeconfigText({ server: opts.server, caCert: cluster.caCertPem, user: 'default-auth', cluster: 'default-cluster', credentials: { cert: certPem, key: keyPem } });
    if (opts.kubeconfigPath) writeFileSync(opts.kubeconfigPath, kubeconfig, { mode: 0o600 });
    return { server: opts.server, caCertPem: cluster.caCertPem, certPem, keyPem, csrName, kubeconfig };
  } finally {
    transport.close();
  }
}

/** WaitForCertificate: polls the request until it has a certificate; denied or failed is an error. */
async function waitForCertificate(transport: Transport, name: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, object } = await getJSON(transport, `${csrPath}/${encodeURIComponent(name)}`);
    if (status !== 200) throw new TLSBootstrapError(`cannot read certificate signing request ${name}: ${(object.message as string | undefined) ?? `HTTP ${status}`}`);
    const csrStatus = (object as unknown as CertificateSigningRequest).status;
    for (const c of csrStatus?.conditions ?? []) {
      if (c.type === 'Denied') throw new TLSBootstrapError(`certificate signing request is denied, reason: ${c.reason ?? ''}, message: ${c.message ?? ''}`);
      if (c.type === 'Failed') throw new TLSBootstrapError(`certificate signing request failed, reason: ${c.reason ?? ''}, message: ${c.message ?? ''}`);
    }
    if (csrStatus?.certificate) return Buffer.from(csrStatus.certificate, 'base64').toString('utf8');
    if (Date.now() > deadline) throw new TLSBootstrapError(`timed out waiting for the certificate of certificate signing request ${name} (is the csrapproving/csrsigning controller running?)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
