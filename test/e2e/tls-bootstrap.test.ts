// TLS bootstrap end to end against the real programs: `kubesvc apiserver` and
// `kubesvc controllers` (csrapproving, csrsigning, bootstrapsigner,
// tokencleaner); `kubesvc token create --print-join-command` prints the join
// command, and the joining side (src/client/tls-bootstrap.ts) discovers the
// cluster with the token and the CA pin, gets its client certificate through
// an auto-approved CSR, and acts as its node. A wrong pin and an expired
// token are refused with clear messages; kubectl sees the CSRs with
// upstream's columns and approves and denies others.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { waitFor } from '../helpers/apiserver.js';
import { tlsBootstrap } from '../../src/client/tls-bootstrap.js';
import { createCertificateRequest } from '../../src/apiserver/pki/pkcs10.js';

const noKubectl = (() => {
  try {
    readFileSync('/usr/bin/kubectl');
    return false;
  } catch {
    if (process.env.CI === 'true') throw new Error('kubectl is missing: install the Debian package kubectl');
    return 'kubectl is not installed';
  }
})();

/** Runs `kubesvc ARGS` to its end: its output, or a failure with it. */
async function kubesvc(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = startCli(args);
  const code = await p.exited;
  return { code, out: p.output() };
}

describe('TLS bootstrap with a bootstrap token', { skip: noKubectl }, () => {
  let dataDir: string;
  let api: CliProcess;
  let controllers: CliProcess;
  let kubectl: Kubectl;
  const nodeDirs: string[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-join-'));
    api = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
    await waitForOutput(api, /apiserver\] "ready"/, 30_000);
    controllers = startCli(['controllers', '--data-dir', dataDir, '--controllers', 'csrapproving,csrsigning,bootstrapsigner,tokencleaner']);
    await waitForOutput(controllers, /controllers\] "ready"/, 30_000);
    kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
  });

  after(async () => {
    controllers?.child.kill('SIGTERM');
    api?.child.kill('SIGTERM');
    await Promise.all([controllers?.exited, api?.exited]);
    kubectl?.cleanup();
    for (const d of [dataDir, ...nodeDirs]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test('token create --print-join-command, then the node joins, is approved and issued, and acts as itself', async () => {
    const created = await kubesvc(['token', 'create', '--print-join-command', '--data-dir', dataDir]);
    assert.equal(created.code, 0, created.out);
    const m = /^kubesvc join --server (https:\/\/127\.0\.0\.1:\d+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})\n$/.exec(created.out);
    assert.ok(m, created.out);
    const [, server, token, hash] = m;
    const id = token!.split('.')[0]!;

    const list = await kubesvc(['token', 'list', '--data-dir', dataDir]);
    assert.match(list.out, /^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS\n/);
    assert.match(list.out, new RegExp(`^${token!.replace('.', '\\.')}\\s+23h\\s+\\S+Z\\s+authentication,signing\\s+<none>\\s+system:bootstrappers:kubeadm:default-node-token$`, 'm'));

    // The bootstrap signer signs cluster-info for the new token.
    await waitFor('the cluster-info signature', async () => (await kubectl.ok(['get', 'cm', '-n', 'kube-public', 'cluster-info', '-o', 'json'])).includes(`jws-kubeconfig-${id}`), 15_000);
    // cluster-info is public: readable without credentials.
    const anon = await fetchInsecure(`${server}/api/v1/namespaces/kube-public/configmaps/cluster-info`);
    assert.equal(anon, 200);

    const nodeDir = mkdtempSync(join(tmpdir(), 'kubesvc-joined-'));
    nodeDirs.push(nodeDir);
    const kubeconfigPath = join(nodeDir, 'kubelet.conf');
    const result = await tlsBootstrap({ server: server!, token: token!, caCertHashes: [hash!], nodeName: 'joiner-1', kubeconfigPath, timeoutMs: 30_000 });
    assert.match(result.csrName, /^csr-/);

    const node = kubectlFor(kubeconfigPath);
    try {
      const whoami = JSON.parse(await node.ok(['auth', 'whoami', '-o', 'json']));
      assert.equal(whoami.status.userInfo.username, 'system:node:joiner-1');
      assert.deepEqual(whoami.status.userInfo.groups, ['system:nodes', 'system:authenticated']);
      // The Node authorizer (with NodeRestriction) lets it create its own Node, and nobody else's.
      await node.ok(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'joiner-1' } }) });
      const other = await node(['delete', 'node', 'joiner-1', '--dry-run=server']);
      assert.notEqual(other.code, 0, 'a node may not delete Nodes');
      assert.match(other.stderr, /forbidden/);
    } finally {
      node.cleanup();
    }

    const table = await kubectl.ok(['get', 'csr']);
    assert.match(table, /^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION\n/);
    assert.match(table, new RegExp(`^${result.csrName}\\s+\\S+\\s+kubernetes\\.io/kube-apiserver-client-kubelet\\s+system:bootstrap:${id}\\s+<none>\\s+Approved,Issued$`, 'm'));
    const csr = JSON.parse(await kubectl.ok(['get', 'csr', result.csrName, '-o', 'json']));
    assert.deepEqual(csr.spec.groups, ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated']);
    assert.equal(csr.status.conditions[0].reason, 'AutoApproved');
    assert.equal(csr.status.conditions[0].message, 'Auto approving kubelet client certificate after SubjectAccessReview.');
    const conf = parse(readFileSync(kubeconfigPath, 'utf8'));
    assert.equal(conf.clusters[0].cluster.server, server);

    const deleted = await kubesvc(['token', 'delete', id, '--data-dir', dataDir]);
    assert.equal(deleted.out, `bootstrap token "${id}" deleted\n`);
    await waitFor('the signature of the deleted token to go', async () => !(await kubectl.ok(['get', 'cm', '-n', 'kube-public', 'cluster-info', '-o', 'json'])).includes(`jws-kubeconfig-${id}`), 15_000);
  });

  test('a wrong CA pin and an expired token are refused, saying why', async () => {
    const created = await kubesvc(['token', 'create', '--print-join-command', '--data-dir', dataDir]);
    const [, server, token] = /--server (\S+) --token (\S+)/.exec(created.out)!;
    const id = token!.split('.')[0]!;
    await waitFor('the cluster-info signature', async () => (await kubectl.ok(['get', 'cm', '-n', 'kube-public', 'cluster-info', '-o', 'json'])).includes(`jws-kubeconfig-${id}`), 15_000);
    const wrong = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(tlsBootstrap({ server: server!, token: token!, caCertHashes: [wrong], nodeName: 'joiner-2', timeoutMs: 10_000 }), {
      message: /^cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:[0-9a-f]{64}" are pinned$/,
    });
    await assert.rejects(tlsBootstrap({ server: server!, token: `${id}.0000000000000000`, caCertHashes: [], nodeName: 'joiner-2', timeoutMs: 10_000 }), {
      message: "failed to verify JWS signature of received cluster info object, can't trust this API Server",
    });

    const short = await kubesvc(['token', 'create', '--ttl', '2s', '--print-join-command', '--data-dir', dataDir]);
    const [, , shortToken, shortHash] = /--server (\S+) --token (\S+) --discovery-token-ca-cert-hash (\S+)/.exec(short.out)!;
    const shortId = shortToken!.split('.')[0]!;
    // The token cleaner deletes the Secret once it expires; the signer then drops its signature.
    await waitFor('the expired token to be cleaned up', async () => (await kubectl(['get', 'secret', '-n', 'kube-system', `bootstrap-token-${shortId}`])).code !== 0, 20_000);
    await waitFor('its signature to go', async () => !(await kubectl.ok(['get', 'cm', '-n', 'kube-public', 'cluster-info', '-o', 'json'])).includes(`jws-kubeconfig-${shortId}`), 15_000);
    await assert.rejects(tlsBootstrap({ server: server!, token: shortToken!, caCertHashes: [shortHash!], nodeName: 'joiner-3', timeoutMs: 10_000 }), {
      message: `token id "${shortId}" is invalid for this cluster or it has expired. Use "kubesvc token create" on the control-plane node to create a new valid token`,
    });
    // Its bearer token no longer authenticates either.
    assert.equal(await fetchInsecure(`${server}/api`, shortToken), 401);
  });

  const request = (cn: string, organizations = ['devs']) =>
    Buffer.from(createCertificateRequest({ commonName: cn, organizations, privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey })).toString('base64');
  const csr = (name: string, cn: string, organizations?: string[]) => ({
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: request(cn, organizations), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 86400 },
  });

  test('the approval subresource; the signer issues kube-apiserver-client certificates; system:masters is refused', async () => {
    await kubectl.ok(['create', '-f', '-'], { input: JSON.stringify(csr('bob', 'bob')) });
    assert.match(await kubectl.ok(['get', 'csr', 'bob']), /^bob\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+kubernetes-admin\s+24h\s+Pending$/m);
    const live = JSON.parse(await kubectl.ok(['get', 'csr', 'bob', '-o', 'json']));
    live.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'approved by a test' }] };
    // A plain update cannot approve; the approval subresource can (kubectl certificate approve's write, in JSON).
    const plain = JSON.parse(await kubectl.ok(['replace', '--raw', '/apis/certificates.k8s.io/v1/certificatesigningrequests/bob', '-f', '-'], { input: JSON.stringify(live) }));
    assert.equal(plain.status?.conditions, undefined, 'an update of the object itself keeps its status as it was');
    // CertificateApproval: updating /approval is not enough, the user must be allowed to approve for the signer.
    await kubectl.ok(['create', 'clusterrole', 'csr-approval-only', '--verb=update', '--resource=certificatesigningrequests/approval']);
    await kubectl.ok(['create', 'clusterrolebinding', 'csr-approval-only', '--clusterrole=csr-approval-only', '--user=approver']);
    const notSigner = await kubectl(['replace', '--raw', '/apis/certificates.k8s.io/v1/certificatesigningrequests/bob/approval', '-f', '-', '--as=approver'], { input: JSON.stringify(live) });
    assert.match(notSigner.stderr, /certificatesigningrequests\.certificates\.k8s\.io "bob" is forbidden: user not permitted to approve requests with signerName "kubernetes\.io\/kube-apiserver-client"/);
    await kubectl.ok(['replace', '--raw', '/apis/certificates.k8s.io/v1/certificatesigningrequests/bob/approval', '-f', '-'], { input: JSON.stringify(live) });
    await waitFor('bob issued', async () => /Approved,Issued/.test(await kubectl.ok(['get', 'csr', 'bob'])), 15_000);
    const describe = await kubectl.ok(['describe', 'csr', 'bob']);
    assert.match(describe, /Requesting User:\s+kubernetes-admin/);
    assert.match(describe, /Status:\s+Approved,Issued/);
    const refused = await kubectl(['create', '-f', '-'], { input: JSON.stringify(csr('root', 'root', ['system:masters'])) });
    assert.match(refused.stderr, /use of kubernetes\.io\/kube-apiserver-client signer with system:masters group is not allowed/);
  });

  // kubectl writes the approval in protobuf: this needs the certificates.k8s.io/v1 messages in
  // src/apiserver/protobuf/messages.ts, which the protobuf work has not declared yet.
  test('kubectl certificate approve and deny', async () => {
    await kubectl.ok(['create', '-f', '-'], { input: JSON.stringify(csr('alice', 'alice')) });
    await kubectl.ok(['create', '-f', '-'], { input: JSON.stringify(csr('mallory', 'mallory')) });
    assert.match(await kubectl.ok(['certificate', 'approve', 'alice']), /certificatesigningrequest\.certificates\.k8s\.io\/alice approved/);
    assert.match(await kubectl.ok(['certificate', 'deny', 'mallory']), /certificatesigningrequest\.certificates\.k8s\.io\/mallory denied/);
    await waitFor('alice issued', async () => /Approved,Issued/.test(await kubectl.ok(['get', 'csr', 'alice'])), 15_000);
    assert.match(await kubectl.ok(['get', 'csr', 'mallory']), /\sDenied$/m);
  });
});

/** GET without trusting the server (as discovery does), optionally with a bearer token: the status. */
async function fetchInsecure(url: string, token?: string): Promise<number> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
