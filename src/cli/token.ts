// `kubesvc token create|list|delete|generate`: bootstrap tokens as `kubeadm
// token` manages them, as the cluster's admin (the data dir's kubeconfig, or
// --kubeconfig). `create --print-join-command` prints the command a node
// joins with: the server cluster-info names, the token, and the pin of the
// cluster CA's public key.
import { join, resolve } from 'node:path';
import { createClient, isNotFound, resourceTypes, type Client } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { createTransport } from '../client/transport.js';
import type { KubeObject } from '../api/object.js';
import { caCertHash, readClusterInfoKubeconfig } from '../auth/bootstrap-token/cluster-info.js';
import {
  clusterInfo,
  generateToken,
  isValidTokenID,
  keys,
  knownTokenUsages,
  kubeadmDefaultNodeTokenGroup,
  parseRFC3339,
  parseToken,
  secretData,
  secretName,
  secretTypeBootstrapToken,
  tokenNamespace,
  tokenSecret,
  tokenUsages,
  validateGroupName,
  type TokenSecret,
} from '../auth/bootstrap-token/token.js';
import { parseGoDuration } from '../util/go-duration.js';
import { parseFlags, UsageError } from './args.js';

export const tokenUsage = `Usage: kubesvc token create [TOKEN] [--ttl 24h0m0s] [--description TEXT] [--usages signing,authentication]
                            [--groups system:bootstrappers:kubeadm:default-node-token] [--print-join-command]
       kubesvc token list
       kubesvc token delete TOKEN_ID|TOKEN...
       kubesvc token generate
  each with [--data-dir .kubesvc | --kubeconfig FILE]

Bootstrap tokens (kube-system/bootstrap-token-<id> Secrets) for nodes that join with
'kubesvc join', as 'kubeadm token'. --ttl 0 makes a token that never expires.`;

type Secret = TokenSecret & KubeObject;

function adminClient(values: { kubeconfig?: string; 'data-dir'?: string }): { client: Client; ca?: string } {
  const path = values.kubeconfig ? resolve(values.kubeconfig) : join(resolve(values['data-dir'] ?? '.kubesvc'), 'kubeconfig');
  let opts;
  try {
    opts = loadKubeconfig(path);
  } catch (e) {
    throw new UsageError(`cannot read the admin kubeconfig ${path}: ${(e as Error).message}`);
  }
  return { client: createClient(createTransport(opts), 'kubesvc-token'), ca: opts.ca?.toString() };
}

/** duration.ShortHumanDuration. */
function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** text/tabwriter with kubeadm's settings (minwidth 10, tabwidth 4, padding 3, spaces). */
function tabulate(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(10, ...rows.map((r) => r[i]!.length + 3)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('').trimEnd() + '\n').join('');
}

/** The rows of `kubeadm token list`: every valid bootstrap token Secret, expired ones included. */
export function tokenListRows(secrets: Secret[], now = new Date()): string[][] {
  const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  for (const s of secrets) {
    if (s.type !== secretTypeBootstrapToken) continue;
    const id = secretData(s, keys.tokenID);
    const secret = secretData(s, keys.tokenSecret);
    if (!isValidTokenID(id) || s.metadata.name !== secretName(id)) continue;
    const expiration = secretData(s, keys.expiration);
    const at = expiration ? parseRFC3339(expiration) : undefined;
    rows.push([
      `${id}.${secret}`,
      at === undefined ? '<forever>' : shortHumanDuration(at - now.getTime()),
      at === undefined ? '<never>' : expiration,
      tokenUsages(s).join(',') || '<none>',
      secretData(s, keys.description) || '<none>',
      secretData(s, keys.extraGroups) || '<none>',
    ]);
  }
  return rows;
}

async function create(client: Client, ca: string | undefined, positionals: string[], values: Record<string, string | boolean | undefined>) {
  const token = positionals[0] ?? generateToken();
  try {
    parseToken(token);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let ttlMs: number;
  try {
    ttlMs = parseGoDuration((values.ttl as string | undefined) ?? '24h0m0s');
  } catch (e) {
    throw new UsageError(`--ttl: ${(e as Error).message}`);
  }
  const usages = ((values.usages as string | undefined) ?? knownTokenUsages.join(',')).split(',').filter(Boolean);
  for (const u of usages) if (!knownTokenUsages.includes(u)) throw new UsageError(`invalid bootstrap token usage string: ${u}, valid options: ${knownTokenUsages.join(',')}`);
  const groups = ((values.groups as string | undefined) ?? kubeadmDefaultNodeTokenGroup).split(',').filter(Boolean);
  for (const g of groups) {
    const err = validateGroupName(g);
    if (err) throw new UsageError(err);
  }
  const secrets = client.resource<Secret>(resourceTypes.secrets);
  const secret = tokenSecret({ token, ttlMs, description: values.description as string | undefined, usages, groups }) as unknown as Secret;
  try {
    await secrets.create(tokenNamespace, secret);
  } catch (e) {
    throw new UsageError(`failed to create bootstrap token with name ${JSON.stringify(secret.metadata.name)}: ${(e as Error).message}`);
  }
  if (!values['print-join-command']) {
    console.log(token);
    return;
  }
  const cm = await client.resource(resourceTypes.configmaps).get(clusterInfo.namespace, clusterInfo.name);
  const { server, caCertPem } = readClusterInfoKubeconfig((cm.data as Record<string, string>)[clusterInfo.kubeconfigKey] ?? '');
  console.log(`kubesvc join --server ${server} --token ${token} --discovery-token-ca-cert-hash ${caCertHash(ca ?? caCertPem)}`);
}

async function remove(client: Client, positionals: string[]) {
  if (!positionals.length) throw new UsageError('missing argument; \'token delete\' is missing a bootstrap token ID or token');
  const secrets = client.resource<Secret>(resourceTypes.secrets);
  for (const arg of positionals) {
    let id = arg;
    if (!isValidTokenID(arg)) {
      try {
        id = parseToken(arg).id;
      } catch {
        throw new UsageError(`given token didn't match pattern "\\A([a-z0-9]{6})\\z" or "\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z"`);
      }
    }
    try {
      await secrets.delete(tokenNamespace, secretName(id));
    } catch (e) {
      if (isNotFound(e)) throw new UsageError(`failed to delete bootstrap token ${JSON.stringify(id)}: ${(e as Error).message}`);
      throw e;
    }
    console.log(`bootstrap token ${JSON.stringify(id)} deleted`);
  }
}

export async function tokenCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, {
    'data-dir': { type: 'string' },
    kubeconfig: { type: 'string' },
    ttl: { type: 'string' },
    description: { type: 'string' },
    usages: { type: 'string' },
    groups: { type: 'string' },
    'print-join-command': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const [sub, ...rest] = positionals;
  if (values.help || !sub) {
    console.log(tokenUsage);
    return;
  }
  if (sub === 'generate') {
    console.log(generateToken());
    return;
  }
  if (!['create', 'list', 'delete'].includes(sub)) throw new UsageError(`unknown token command "${sub}"\n\n${tokenUsage}`);
  const { client, ca } = adminClient(values);
  try {
    if (sub === 'create') await create(client, ca, rest, values);
    else if (sub === 'delete') await remove(client, rest);
    else {
      const { items } = await client.resource<Secret>(resourceTypes.secrets).list(tokenNamespace);
      process.stdout.write(tabulate(tokenListRows(items)));
    }
  } finally {
    client.close();
  }
}
