// A container's environment as the kubelet builds it (pkg/kubelet/envvars,
// kubelet_pods.go makeEnvironmentVariables / getServiceEnvVarMap, and the
// $(VAR) expansion of third_party/forked/golang/expansion). Pure, except for
// the ConfigMap and Secret lookups the caller supplies.
import type { Container, Pod, Service } from '../api/types.js';
import { parseQuantity } from '../api/quantity.js';
import { notFoundMessage, sourceNames, sourceRef, sourceValues, type ObjectLookup, type SourceRef } from './config-sources.js';

export interface EnvVar {
  name: string;
  value: string;
}

/** The names are upper-cased with '-' → '_' (makeEnvVariableName). */
export function envVariableName(s: string): string {
  return s.toUpperCase().replace(/-/g, '_');
}

function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** envvars.FromServices: the Docker-link-style variables for services with a cluster IP. */
export function serviceEnvVars(services: Service[]): EnvVar[] {
  const out: EnvVar[] = [];
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const ports = svc.spec?.ports ?? [];
    if (ports.length === 0) continue;
    const ip = svc.spec!.clusterIP!;
    const prefix = envVariableName(svc.metadata?.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    const portName = `${prefix}_SERVICE_PORT`;
    out.push({ name: portName, value: String(ports[0].port) });
    for (const p of ports) {
      if (p.name) out.push({ name: `${portName}_${envVariableName(p.name)}`, value: String(p.port) });
    }
    // makeLinkVariables
    ports.forEach((p, i) => {
      const protocol = p.protocol || 'TCP';
      const url = `${protocol.toLowerCase()}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.push(
        { name: pp, value: url },
        { name: `${pp}_PROTO`, value: protocol.toLowerCase() },
        { name: `${pp}_PORT`, value: String(p.port) },
        { name: `${pp}_ADDR`, value: ip },
      );
    });
  }
  return out;
}

/** The services whose variables the kubelet always adds from the master namespace, whatever enableServiceLinks says. */
const masterServices = new Set(['kubernetes']);

/**
 * getServiceEnvVarMap: the services of the pod's namespace (when
 * enableServiceLinks) projected onto the master services of "default".
 * A service of the pod's own namespace wins over a master service of the same name.
 */
export function serviceEnvVarMap(services: Service[], namespace: string, enableServiceLinks: boolean, masterServiceNamespace = 'default'): Map<string, string> {
  const byName = new Map<string, Service>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata?.name ?? '';
    if (svc.metadata?.namespace === masterServiceNamespace && masterServices.has(name)) {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (svc.metadata?.namespace === namespace && enableServiceLinks) {
      byName.set(name, svc);
    }
  }
  const m = new Map<string, string>();
  for (const e of serviceEnvVars([...byName.values()])) m.set(e.name, e.value);
  return m;
}

/** expansion.MappingFuncFor: the first map that has the name wins; unknown references stay as written. */
export function mappingFuncFor(...maps: Map<string, string>[]): (name: string) => string {
  return (name) => {
    for (const m of maps) {
      const v = m.get(name);
      if (v !== undefined) return v;
    }
    return `$(${name})`;
  };
}

/** expansion.Expand: $(VAR) is replaced, $$ is an escaped $, anything else is kept. */
export function expand(input: string, mapping: (name: string) => string): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close >= 0) {
        out += mapping(rest.slice(1, close));
        advance = close + 1;
      } else {
        out += '$(';
      }
    } else {
      out += '$' + rest[0];
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** ExpandContainerCommandAndArgs: $(VAR) in command and args from the container's (kubelet-made) environment. */
export function expandCommandAndArgs(container: Pick<Container, 'command' | 'args'>, env: EnvVar[]): { command?: string[]; args?: string[] } {
  const mapping = mappingFuncFor(new Map(env.map((e) => [e.name, e.value])));
  return {
    command: container.command?.length ? container.command.map((c) => expand(c, mapping)) : undefined,
    args: container.args?.length ? container.args.map((a) => expand(a, mapping)) : undefined,
  };
}

/** A problem that keeps the container from being created (CreateContainerConfigError). */
export class ContainerConfigError extends Error {}

function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

/** The downward API's fieldRef values the kubelet resolves (podFieldSelectorRuntimeValue + ExtractFieldPathAsString). */
export function podFieldValue(pod: Pod, fieldPath: string, podIPs: string[], hostIPs: string[]): string {
  switch (fieldPath) {
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return hostIPs[0] ?? '';
    case 'status.hostIPs':
      return hostIPs.join(',');
    case 'status.podIP':
      return podIPs[0] ?? '';
    case 'status.podIPs':
      return podIPs.join(',');
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata?.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata?.annotations);
  }
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (sub) return (sub[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[sub[2]] ?? '';
  throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
}

/** What a resourceFieldRef falls back to when the container sets no limit: the node's allocatable. */
export interface NodeAllocatable {
  cpu: number;
  memory: number;
  ephemeralStorage?: number;
}

/** ExtractContainerResourceValue, with limits defaulted to the node's allocatable as the kubelet does. */
export function containerResourceValue(container: Container, resource: string, divisor: string | undefined, node: NodeAllocatable): string {
  const [kind, name] = resource.split('.', 2) as [string, string];
  const limits = container.resources?.limits as Record<string, string | number> | undefined;
  const requests = container.resources?.requests as Record<string, string | number> | undefined;
  const nodeValue = name === 'cpu' ? node.cpu : name === 'memory' ? node.memory : name === 'ephemeral-storage' ? node.ephemeralStorage : undefined;
  let value: number | undefined;
  if (kind === 'limits') value = parseQuantity(limits?.[name]) ?? nodeValue;
  else if (kind === 'requests') value = parseQuantity(requests?.[name]) ?? (name === 'cpu' || name === 'memory' ? parseQuantity(limits?.[name]) : undefined) ?? 0;
  if (value === undefined || !['cpu', 'memory', 'ephemeral-storage'].includes(name)) {
    throw new ContainerConfigError(`unsupported container resource : ${resource}`);
  }
  const d = parseQuantity(divisor) || 1;
  if (name === 'cpu') {
    // convertResourceCPUToString: ceil(millis / divisor millis)
    return String(Math.ceil(Math.round(value * 1000) / Math.round(d * 1000)));
  }
  return String(Math.ceil(value / d));
}

export interface EnvironmentContext extends ObjectLookup {
  pod: Pod;
  container: Container;
  podIPs: string[];
  hostIPs: string[];
  /** The result of serviceEnvVarMap for the pod. */
  serviceEnv: Map<string, string>;
  node: NodeAllocatable;
  /** Warnings the kubelet records as events (reason, message). */
  warn?(reason: string, message: string): void;
}

const envVarNameRe = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * makeEnvironmentVariables: envFrom, then env in declaration order (values
 * expanded against the variables declared so far and the service
 * variables), then the service variables not already defined.
 */
export async function makeEnvironment(ctx: EnvironmentContext): Promise<EnvVar[]> {
  const { pod, container } = ctx;
  const namespace = pod.metadata?.namespace ?? 'default';
  const sources = new Map<string, Map<string, string>>();
  const tmpEnv = new Map<string, string>();

  /** A ConfigMap's or Secret's values (each looked up once); undefined when it is missing and optional. */
  async function values(ref: SourceRef): Promise<Map<string, string> | undefined> {
    const id = `${ref.kind}/${ref.name}`;
    const cached = sources.get(id);
    if (cached) return cached;
    const found = await sourceValues(ctx, namespace, ref, false);
    if (!found) {
      if (ref.optional) return undefined;
      throw new ContainerConfigError(notFoundMessage(ref));
    }
    const strings = new Map([...found].map(([k, v]) => [k, v.toString('utf8')]));
    sources.set(id, strings);
    return strings;
  }

  for (const from of container.envFrom ?? []) {
    const ref = sourceRef({ configmap: from.configMapRef, secret: from.secretRef });
    const data = ref && (await values(ref));
    if (!ref || !data) continue;
    const invalid: string[] = [];
    for (const [k0, v] of data) {
      const k = (from.prefix ?? '') + k0;
      if (!envVarNameRe.test(k)) {
        invalid.push(k);
        continue;
      }
      tmpEnv.set(k, v);
    }
    if (invalid.length) {
      invalid.sort();
      ctx.warn?.(
        'InvalidEnvironmentVariableNames',
        `Keys [${invalid.join(', ')}] from the EnvFrom ${sourceNames[ref.kind].envFrom} ${namespace}/${ref.name} were skipped since they are considered invalid environment variable names.`,
      );
    }
  }

  const mapping = mappingFuncFor(tmpEnv, ctx.serviceEnv);
  for (const e of container.env ?? []) {
    let value = e.value ?? '';
    if (value !== '') {
      value = expand(value, mapping);
    } else if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) {
        value = podFieldValue(pod, vf.fieldRef.fieldPath, ctx.podIPs, ctx.hostIPs);
      } else if (vf.resourceFieldRef) {
        const target = vf.resourceFieldRef.containerName
          ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === vf.resourceFieldRef!.containerName)
          : container;
        if (!target) throw new ContainerConfigError(`container ${vf.resourceFieldRef.containerName} not found`);
        value = containerResourceValue(target, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor as string | undefined, ctx.node);
      } else if (vf.configMapKeyRef || vf.secretKeyRef) {
        const ref = sourceRef({ configmap: vf.configMapKeyRef, secret: vf.secretKeyRef })!;
        const key = (vf.configMapKeyRef ?? vf.secretKeyRef)!.key;
        const data = await values(ref);
        if (!data) continue;
        const v = data.get(key);
        if (v === undefined) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`couldn't find key ${key} in ${sourceNames[ref.kind].kind} ${namespace}/${ref.name}`);
        }
        value = v;
      }
    }
    tmpEnv.set(e.name, value);
  }

  const result: EnvVar[] = [...tmpEnv].map(([name, value]) => ({ name, value }));
  for (const [name, value] of ctx.serviceEnv) if (!tmpEnv.has(name)) result.push({ name, value });
  return result;
}
