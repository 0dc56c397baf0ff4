// Workload validation (Pod, Deployment, ReplicaSet, DaemonSet, ConfigMap,
// Namespace, Node) after upstream's pkg/apis/core/validation and
// pkg/apis/apps/validation — the parts that matter for running pods behind
// Services. ObjectMeta and names are validated by the registry.
//
// Fields that upstream always defaults before validating (restartPolicy,
// dnsPolicy, port protocols, probe thresholds, rollout strategies, ...) are
// checked only when present: an absent value is what defaulting would have
// filled in, so "Required" for them is unreachable through the REST API.
import type { DaemonSet, Deployment, DeploymentStrategy, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type {
  ConfigMap,
  Container,
  ContainerPort,
  EnvVar,
  Namespace,
  Node,
  Pod,
  PodDNSConfig,
  PodSpec,
  PodTemplateSpec,
  Probe,
  Toleration,
  Volume,
  VolumeMount,
} from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { fieldErrors, GoLiteral, key, type FieldError } from '../../api/field-errors.js';
import { validatePortNumOrName } from '../services/validation.js';
import { isDualStackIPs } from '../../net/addr.js';
import { validateCIDR, validateIP } from '../validation/ip.js';
import {
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidLabelValue,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
} from '../validation/names.js';
import {
  fieldImmutableErrorMsg,
  goLabelSelector,
  goStringMap,
  validateAnnotations,
  validateKubeFinalizerName,
  validateLabelName,
  validateLabels,
  validateNodeName,
  validateNonnegativeField,
} from '../validation/object-meta.js';

const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];
/** core.MaxSecretSize: ConfigMaps share the 1 MiB cap. */
export const maxConfigMapSize = 1024 * 1024;
const maxDNSNameservers = 3;
const maxDNSSearchPaths = 32;
const maxDNSSearchListChars = 2048;

/**
 * field.NotSupported with the caller's own order. Go does not sort the list;
 * callers that pass sets.List get sorted output, the rest (restartPolicy,
 * dnsPolicy, ...) print in declaration order.
 */
export function notSupportedInOrder(path: string, value: unknown, supported: string[]): FieldError {
  return { ...fieldErrors.notSupported(path, value, []), detail: `supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}` };
}

function dns1123Label(value: string, path: string): FieldError[] {
  return isDNS1123Label(value).map((msg) => fieldErrors.invalid(path, value, msg));
}

function dns1123Subdomain(value: string, path: string): FieldError[] {
  return isDNS1123Subdomain(value).map((msg) => fieldErrors.invalid(path, value, msg));
}

function qualifiedName(value: string, path: string): FieldError[] {
  return isQualifiedName(value).map((msg) => fieldErrors.invalid(path, value, msg));
}

// ---------------------------------------------------------------- selectors

/** metav1validation.ValidateLabelSelector (strict values, as apps/v1 uses it). */
export function validateLabelSelector(sel: LabelSelector | undefined, path: string): FieldError[] {
  if (sel == null) return [];
  const errs = validateLabels(sel.matchLabels, `${path}.matchLabels`);
  (sel.matchExpressions ?? []).forEach((r, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fieldErrors.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fieldErrors.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(fieldErrors.invalid(`${p}.operator`, r.operator, 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(r.key, `${p}.key`));
    values.forEach((v, j) => errs.push(...isValidLabelValue(v).map((msg) => fieldErrors.invalid(`${p}.values[${j}]`, v, msg))));
  });
  return errs;
}

/**
 * metav1.LabelSelectorAsSelector(sel).Matches(labels). A nil selector
 * selects nothing; an empty one selects everything.
 */
export function labelSelectorMatches(sel: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (sel == null) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const r of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
        if (!has || !values.includes(l[r.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[r.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function isEmptySelector(sel: LabelSelector): boolean {
  return Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions ?? []).length === 0;
}

/** apiequality.Semantic.DeepEqual for selectors: nil and empty collections are equal. */
export function sameSelector(a: LabelSelector | undefined, b: LabelSelector | undefined): boolean {
  if (a == null || b == null) return a == null && b == null;
  const norm = (s: LabelSelector) =>
    JSON.stringify({
      l: Object.entries(s.matchLabels ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
      e: (s.matchExpressions ?? []).map((r) => [r.key, r.operator, r.values ?? []]),
    });
  return norm(a) === norm(b);
}

// ---------------------------------------------------------------- pod spec

/** validateContainerPorts: IANA names (unique), port ranges, protocol. */
function validateContainerPorts(ports: ContainerPort[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (ports ?? []).forEach((port, i) => {
    const p = `${path}[${i}]`;
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) errs.push(...msgs.map((msg) => fieldErrors.invalid(`${p}.name`, port.name, msg)));
      else if (names.has(port.name)) errs.push(fieldErrors.duplicate(`${p}.name`, port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(fieldErrors.required(`${p}.containerPort`));
    else errs.push(...isValidPortNum(port.containerPort).map((msg) => fieldErrors.invalid(`${p}.containerPort`, port.containerPort, msg)));
    if (port.hostPort) errs.push(...isValidPortNum(port.hostPort).map((msg) => fieldErrors.invalid(`${p}.hostPort`, port.hostPort, msg)));
    if (port.protocol != null && !supportedPortProtocols.includes(port.protocol)) {
      errs.push(fieldErrors.notSupported(`${p}.protocol`, port.protocol, supportedPortProtocols));
    }
  });
  return errs;
}

/** AccumulateUniqueHostPorts: one host port per protocol and host IP across the given containers. */
function checkHostPortConflicts(containers: Container[], path: string, seen = new Set<string>()): FieldError[] {
  const errs: FieldError[] = [];
  containers.forEach((c, ci) => {
    (c.ports ?? []).forEach((port, pi) => {
      if (!port.hostPort) return;
      const k = `${port.protocol ?? 'TCP'}/${port.hostIP ?? ''}/${port.hostPort}`;
      if (seen.has(k)) errs.push(fieldErrors.duplicate(`${path}[${ci}].ports[${pi}].hostPort`, k));
      else seen.add(k);
    });
  });
  return errs;
}

/** ValidateEnv with RelaxedEnvironmentVariableValidation (default on); an empty name gets both messages, as upstream. */
function validateEnv(env: EnvVar[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (env ?? []).forEach((ev, i) => {
    const p = `${path}[${i}].name`;
    const name = ev.name ?? '';
    if (name.length === 0) errs.push(fieldErrors.required(p));
    errs.push(...isRelaxedEnvVarName(name).map((msg) => fieldErrors.invalid(p, name, msg)));
  });
  return errs;
}

function validateVolumeMounts(mounts: VolumeMount[] | undefined, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (mounts ?? []).forEach((m, i) => {
    const p = `${path}[${i}]`;
    if (!m.name) errs.push(fieldErrors.required(`${p}.name`));
    else if (!volumes.has(m.name)) errs.push(fieldErrors.notFound(`${p}.name`, m.name));
    if (!m.mountPath) errs.push(fieldErrors.required(`${p}.mountPath`));
  });
  return errs;
}

/** validateHandler: exactly one action, each checked. Absent httpGet path/scheme are defaulted upstream. */
function validateProbeHandler(probe: Probe, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const one = (child: string, check: () => FieldError[]) => {
    if (n > 0) errs.push(fieldErrors.forbidden(`${path}.${child}`, 'may not specify more than 1 handler type'));
    else {
      n++;
      errs.push(...check());
    }
  };
  if (probe.exec) one('exec', () => ((probe.exec!.command ?? []).length === 0 ? [fieldErrors.required(`${path}.exec.command`)] : []));
  if (probe.httpGet) {
    one('httpGet', () => {
      const h = probe.httpGet!;
      const out: FieldError[] = [];
      if (h.path === '') out.push(fieldErrors.required(`${path}.httpGet.path`));
      out.push(...validatePortNumOrName(h.port, `${path}.httpGet.port`));
      if (h.scheme != null && !['HTTP', 'HTTPS'].includes(h.scheme)) out.push(fieldErrors.notSupported(`${path}.httpGet.scheme`, h.scheme, ['HTTP', 'HTTPS']));
      return out;
    });
  }
  if (probe.tcpSocket) one('tcpSocket', () => validatePortNumOrName(probe.tcpSocket!.port, `${path}.tcpSocket.port`));
  if (probe.grpc) {
    one('grpc', () => isValidPortNum(probe.grpc!.port).map((msg) => fieldErrors.invalid(`${path}.grpc.port`, probe.grpc!.port, msg)));
  }
  if (n === 0) errs.push(fieldErrors.required(path, 'must specify a handler type'));
  return errs;
}

/** validateProbe (+ the liveness/startup rule that success means one success). */
function validateProbe(probe: Probe | undefined, path: string, mustSucceedOnce: boolean): FieldError[] {
  if (!probe) return [];
  const errs = validateProbeHandler(probe, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...validateNonnegativeField(probe[f] ?? 0, `${path}.${f}`));
  }
  if (probe.terminationGracePeriodSeconds != null && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(fieldErrors.invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (mustSucceedOnce && probe.successThreshold != null && probe.successThreshold !== 1) {
    errs.push(fieldErrors.invalid(`${path}.successThreshold`, probe.successThreshold, 'must be 1'));
  }
  return errs;
}

/** validateContainerCommon: what every container kind must satisfy. */
function validateContainerCommon(c: Container, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(fieldErrors.required(`${path}.name`));
  else errs.push(...dns1123Label(c.name, `${path}.name`));
  if (!c.image) errs.push(fieldErrors.required(`${path}.image`));
  if (c.terminationMessagePolicy != null && !['File', 'FallbackToLogsOnError'].includes(c.terminationMessagePolicy)) {
    errs.push(notSupportedInOrder(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, ['File', 'FallbackToLogsOnError']));
  }
  errs.push(...validateContainerPorts(c.ports, `${path}.ports`));
  errs.push(...validateEnv(c.env, `${path}.env`));
  errs.push(...validateVolumeMounts(c.volumeMounts, volumes, `${path}.volumeMounts`));
  if (c.imagePullPolicy != null && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
    errs.push(notSupportedInOrder(`${path}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']));
  }
  return errs;
}

function validateContainers(containers: Container[] | undefined, volumes: Set<string>, path: string): FieldError[] {
  const list = containers ?? [];
  if (list.length === 0) return [fieldErrors.required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p));
    if (names.has(c.name ?? '')) errs.push(fieldErrors.duplicate(`${p}.name`, c.name ?? ''));
    else names.add(c.name ?? '');
    errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, true));
    errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, false));
    errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, true));
    if ((c as { restartPolicy?: string }).restartPolicy != null) errs.push(fieldErrors.forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(list, path));
  return errs;
}

/** validateInitContainers: names unique across init and regular containers; probes only for sidecars (restartPolicy Always). */
function validateInitContainers(inits: Container[] | undefined, regular: Container[] | undefined, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set((regular ?? []).map((c) => c.name ?? ''));
  (inits ?? []).forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p));
    const restartPolicy = (c as { restartPolicy?: string }).restartPolicy;
    if (restartPolicy != null && restartPolicy !== 'Always') errs.push(notSupportedInOrder(`${p}.restartPolicy`, restartPolicy, ['Always']));
    if (names.has(c.name ?? '')) errs.push(fieldErrors.duplicate(`${p}.name`, c.name ?? ''));
    else if (c.name) names.add(c.name);
    // Init containers run one by one, so their host ports only conflict within themselves.
    errs.push(...checkHostPortConflicts([c], path));
    if (restartPolicy === 'Always') {
      errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, true));
      errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, false));
      errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, true));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (c[f] != null) errs.push(fieldErrors.forbidden(`${p}.${f}`, 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

/** ValidateVolumes (names only: a volume without a source is defaulted to emptyDir upstream). */
function validateVolumes(volumes: Volume[] | undefined, path: string): { names: Set<string>; errs: FieldError[] } {
  const names = new Set<string>();
  const errs: FieldError[] = [];
  (volumes ?? []).forEach((v, i) => {
    const p = `${path}[${i}].name`;
    if (!v.name) errs.push(fieldErrors.required(p));
    else errs.push(...dns1123Label(v.name, p));
    if (v.name && names.has(v.name)) errs.push(fieldErrors.duplicate(p, v.name));
    else if (v.name) names.add(v.name);
  });
  return { names, errs };
}

function validatePodDNSConfig(cfg: PodDNSConfig | undefined, dnsPolicy: string | undefined, path: string): FieldError[] {
  if (dnsPolicy === 'None') {
    if (!cfg) return [fieldErrors.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if ((cfg.nameservers ?? []).length === 0) return [fieldErrors.required(`${path}.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!cfg) return [];
  const errs: FieldError[] = [];
  const ns = cfg.nameservers ?? [];
  if (ns.length > maxDNSNameservers) errs.push(fieldErrors.invalid(`${path}.nameservers`, ns, `must not have more than ${maxDNSNameservers} nameservers`));
  ns.forEach((n, i) => errs.push(...validateIP(n, `${path}.nameservers[${i}]`)));
  const searches = cfg.searches ?? [];
  if (searches.length > maxDNSSearchPaths) errs.push(fieldErrors.invalid(`${path}.searches`, searches, `must not have more than ${maxDNSSearchPaths} search paths`));
  if (searches.join(' ').length > maxDNSSearchListChars) {
    errs.push(fieldErrors.invalid(`${path}.searches`, searches, `must not have more than ${maxDNSSearchListChars} characters (including spaces) in the search list`));
  }
  // AllowRelaxedDNSSearchValidation is off for new pods: plain subdomains, trailing dot allowed.
  searches.forEach((s, i) => errs.push(...dns1123Subdomain(s.replace(/\.$/, ''), `${path}.searches[${i}]`)));
  (cfg.options ?? []).forEach((o, i) => {
    if (!o.name) errs.push(fieldErrors.required(`${path}.options[${i}]`, 'must not be empty'));
  });
  return errs;
}

/** ValidateTolerations. */
function validateTolerations(tolerations: Toleration[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (tolerations ?? []).forEach((t, i) => {
    const p = `${path}[${i}]`;
    const k = t.key ?? '';
    const op = t.operator ?? '';
    const effect = t.effect ?? '';
    if (k) errs.push(...validateLabelName(k, `${p}.key`));
    if (!k && op !== 'Exists') {
      errs.push(fieldErrors.invalid(`${p}.operator`, op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds != null && effect !== 'NoExecute') {
      errs.push(fieldErrors.invalid(`${p}.effect`, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal' || op === '') {
      const msgs = isValidLabelValue(t.value ?? '');
      if (msgs.length) errs.push(fieldErrors.invalid(`${p}.operator`, t.value ?? '', msgs.join(';')));
    } else if (op === 'Exists') {
      if (t.value) errs.push(fieldErrors.invalid(`${p}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupportedInOrder(`${p}.operator`, op, ['Equal', 'Exists']));
    }
    if (effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) {
      errs.push(notSupportedInOrder(`${p}.effect`, effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return errs;
}

/** ValidatePodSpec: the rules that decide whether a pod can run and be reached. */
export function validatePodSpec(spec: PodSpec | undefined, path: string): FieldError[] {
  const s: PodSpec = spec ?? { containers: [] };
  const errs: FieldError[] = [];
  const vols = validateVolumes(s.volumes, `${path}.volumes`);
  errs.push(...vols.errs);
  errs.push(...validateContainers(s.containers, vols.names, `${path}.containers`));
  errs.push(...validateInitContainers(s.initContainers, s.containers, vols.names, `${path}.initContainers`));

  if (s.hostNetwork) {
    // On the host network a container port is a host port; both must agree (0 is defaulted to containerPort).
    (s.containers ?? []).forEach((c, i) =>
      (c.ports ?? []).forEach((port, j) => {
        if (port.hostPort && port.hostPort !== port.containerPort) {
          errs.push(fieldErrors.invalid(`${path}.containers[${i}].ports[${j}].hostPort`, port.hostPort, 'must match `containerPort` when `hostNetwork` is true'));
        }
      }),
    );
  }

  if (s.restartPolicy != null && !['Always', 'OnFailure', 'Never'].includes(s.restartPolicy)) {
    errs.push(s.restartPolicy === '' ? fieldErrors.required(`${path}.restartPolicy`) : notSupportedInOrder(`${path}.restartPolicy`, s.restartPolicy, ['Always', 'OnFailure', 'Never']));
  }
  const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (s.dnsPolicy != null && !dnsPolicies.includes(s.dnsPolicy)) {
    errs.push(s.dnsPolicy === '' ? fieldErrors.required(`${path}.dnsPolicy`) : notSupportedInOrder(`${path}.dnsPolicy`, s.dnsPolicy, dnsPolicies));
  }
  errs.push(...validateLabels(s.nodeSelector, `${path}.nodeSelector`));
  errs.push(...validatePodDNSConfig(s.dnsConfig, s.dnsPolicy, `${path}.dnsConfig`));
  (s.readinessGates ?? []).forEach((g, i) => errs.push(...qualifiedName(g.conditionType, `${path}.readinessGates[${i}].conditionType`)));
  if (s.serviceAccountName) errs.push(...dns1123Subdomain(s.serviceAccountName, `${path}.serviceAccountName`));
  if (s.nodeName) errs.push(...validateNodeName(s.nodeName, false).map((msg) => fieldErrors.invalid(`${path}.nodeName`, s.nodeName, msg)));
  if (s.activeDeadlineSeconds != null && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > 2147483647)) {
    errs.push(fieldErrors.invalid(`${path}.activeDeadlineSeconds`, s.activeDeadlineSeconds, inclusiveRangeError(1, 2147483647)));
  }
  if (s.hostname) errs.push(...dns1123Label(s.hostname, `${path}.hostname`));
  if (s.subdomain) errs.push(...dns1123Label(s.subdomain, `${path}.subdomain`));
  errs.push(...validateTolerations(s.tolerations, `${path}.tolerations`));
  (s.hostAliases ?? []).forEach((a, i) => {
    errs.push(...validateIP(a.ip ?? '', `${path}.hostAliases[${i}].ip`));
    (a.hostnames ?? []).forEach((h, j) => errs.push(...dns1123Subdomain(h, `${path}.hostAliases[${i}].hostnames[${j}]`)));
  });
  if (s.priorityClassName) errs.push(...dns1123Subdomain(s.priorityClassName, `${path}.priorityClassName`));
  errs.push(...validatePodSecurityContext(s, path));
  return errs;
}

const MAX_ID = 2147483647;

/** IsValidUserID / IsValidGroupID: an id must fit the kernel's non-negative int32. */
function idErrors(value: unknown, path: string): FieldError[] {
  return typeof value === 'number' && (value < 0 || value > MAX_ID) ? [fieldErrors.invalid(path, value, inclusiveRangeError(0, MAX_ID))] : [];
}

/** validatePodSpecSecurityContext and the container securityContexts' ids. */
function validatePodSecurityContext(s: PodSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const sc = s.securityContext;
  const scPath = `${path}.securityContext`;
  if (sc) {
    errs.push(...idErrors(sc.fsGroup, `${scPath}.fsGroup`), ...idErrors(sc.runAsUser, `${scPath}.runAsUser`), ...idErrors(sc.runAsGroup, `${scPath}.runAsGroup`));
    (sc.supplementalGroups ?? []).forEach((g, i) => errs.push(...idErrors(g, `${scPath}.supplementalGroups[${i}]`)));
    if (sc.fsGroupChangePolicy != null && !['OnRootMismatch', 'Always'].includes(sc.fsGroupChangePolicy)) {
      errs.push(notSupportedInOrder(`${scPath}.fsGroupChangePolicy`, sc.fsGroupChangePolicy, ['OnRootMismatch', 'Always']));
    }
  }
  if (s.shareProcessNamespace && s.hostPID) {
    errs.push(fieldErrors.invalid(`${path}.shareProcessNamespace`, true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  const containers: [string, Container[] | undefined][] = [['initContainers', s.initContainers], ['containers', s.containers]];
  for (const [kind, list] of containers) {
    (list ?? []).forEach((c, i) => {
      const csc = c.securityContext;
      if (!csc) return;
      const at = `${path}.${kind}[${i}].securityContext`;
      errs.push(...idErrors(csc.runAsUser, `${at}.runAsUser`), ...idErrors(csc.runAsGroup, `${at}.runAsGroup`));
      if (csc.allowPrivilegeEscalation === false && csc.privileged) {
        errs.push(fieldErrors.invalid(at, csc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
      }
      if (csc.allowPrivilegeEscalation === false && (csc.capabilities?.add ?? []).includes('CAP_SYS_ADMIN')) {
        errs.push(fieldErrors.invalid(at, csc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
      }
    });
  }
  return errs;
}

/** ValidatePodTemplateSpec: note upstream checks template labels at `<path>.labels`, not `<path>.metadata.labels`. */
export function validatePodTemplateSpec(template: PodTemplateSpec | undefined, path: string): FieldError[] {
  const t = template ?? {};
  const errs = [...validateLabels(t.metadata?.labels, `${path}.labels`), ...validateAnnotations(t.metadata?.annotations, `${path}.annotations`)];
  errs.push(...validatePodSpec(t.spec, `${path}.spec`));
  if (((t.spec as { ephemeralContainers?: unknown[] } | undefined)?.ephemeralContainers ?? []).length > 0) {
    errs.push(fieldErrors.forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

/** ValidatePod (create): the spec plus the pod-only image whitespace rule. */
export function validatePod(pod: Pod): FieldError[] {
  const errs = validatePodSpec(pod.spec, 'spec');
  for (const [list, name] of [
    [pod.spec?.containers, 'containers'],
    [pod.spec?.initContainers, 'initContainers'],
  ] as const) {
    (list ?? []).forEach((c, i) => {
      if (c.image && c.image !== c.image.trim()) {
        errs.push(fieldErrors.invalid(`spec.${name}[${i}].image`, c.image, 'must not have leading or trailing whitespace'));
      }
    });
  }
  return errs;
}

// ---------------------------------------------------------------- apps

/** Go %#v of an intstr.IntOrString value. */
export function intOrStringLiteral(v: number | string): GoLiteral {
  return typeof v === 'number'
    ? new GoLiteral(`intstr.IntOrString{Type:0, IntVal:${v}, StrVal:""}`)
    : new GoLiteral(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${JSON.stringify(v)}}`);
}

function percentValue(v: number | string | undefined): number | undefined {
  if (typeof v !== 'string' || isValidPercent(v).length) return undefined;
  return parseInt(v.slice(0, -1), 10);
}

/** getIntOrPercentValue: an invalid string counts as 0 (intstr.IntValue of a non-number). */
export function intOrPercentValue(v: number | string | undefined): number {
  const pct = percentValue(v);
  if (pct !== undefined) return pct;
  if (typeof v === 'number') return v;
  const n = parseInt(v ?? '', 10);
  return Number.isNaN(n) ? 0 : n;
}

export function validatePositiveIntOrPercent(v: number | string | undefined, path: string): FieldError[] {
  if (typeof v === 'string') return isValidPercent(v).map((msg) => fieldErrors.invalid(path, intOrStringLiteral(v), msg));
  return validateNonnegativeField(v ?? 0, path);
}

export function isNotMoreThan100Percent(v: number | string | undefined, path: string): FieldError[] {
  const pct = percentValue(v);
  return pct !== undefined && pct > 100 ? [fieldErrors.invalid(path, intOrStringLiteral(v!), 'must not be greater than 100%')] : [];
}

function validateDeploymentStrategy(strategy: DeploymentStrategy | undefined, path: string): FieldError[] {
  // An absent strategy (or type) is defaulted to RollingUpdate 25%/25%.
  if (!strategy?.type) return [];
  const ru = strategy.rollingUpdate;
  switch (strategy.type) {
    case 'Recreate':
      return ru != null ? [fieldErrors.forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      if (ru == null) return [];
      const p = `${path}.rollingUpdate`;
      const maxUnavailable = ru.maxUnavailable ?? '25%';
      const maxSurge = ru.maxSurge ?? '25%';
      const errs = [
        ...validatePositiveIntOrPercent(maxUnavailable, `${p}.maxUnavailable`),
        ...validatePositiveIntOrPercent(maxSurge, `${p}.maxSurge`),
      ];
      if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0) {
        errs.push(fieldErrors.invalid(`${p}.maxUnavailable`, intOrStringLiteral(maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...isNotMoreThan100Percent(maxUnavailable, `${p}.maxUnavailable`));
      return errs;
    }
    default: {
      const literal = `apps.DeploymentStrategy{Type:${JSON.stringify(strategy.type)}, RollingUpdate:(*apps.RollingUpdateDeployment)(${ru ? '…' : 'nil'})}`;
      return [notSupportedInOrder(path, new GoLiteral(literal), ['Recreate', 'RollingUpdate'])];
    }
  }
}

/**
 * The selector part shared by Deployment and ReplicaSet: required, valid,
 * non-empty, and matching the template's labels (ValidatePodTemplateSpecForReplicaSet).
 */
function validateSelectorAndTemplate(selector: LabelSelector | undefined, template: PodTemplateSpec | undefined, kind: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const selErrs = validateLabelSelector(selector, `${path}.selector`);
  if (selector == null) {
    errs.push(fieldErrors.required(`${path}.selector`));
  } else {
    errs.push(...selErrs);
    if (isEmptySelector(selector)) errs.push(fieldErrors.invalid(`${path}.selector`, goLabelSelector(selector), `empty selector is invalid for ${kind}`));
  }
  const tPath = `${path}.template`;
  if (selErrs.length) {
    // LabelSelectorAsSelector fails exactly when the selector is invalid.
    errs.push(fieldErrors.invalid(`${path}.selector`, goLabelSelector(selector!), 'invalid label selector'));
    return errs;
  }
  // A nil selector selects nothing, so it "does not match" too — upstream reports both.
  if ((selector == null || !isEmptySelector(selector)) && !labelSelectorMatches(selector, template?.metadata?.labels)) {
    errs.push(fieldErrors.invalid(`${tPath}.metadata.labels`, goStringMap(template?.metadata?.labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, tPath));
  const restartPolicy = template?.spec?.restartPolicy;
  if (restartPolicy != null && restartPolicy !== 'Always') errs.push(notSupportedInOrder(`${tPath}.spec.restartPolicy`, restartPolicy, ['Always']));
  if (template?.spec?.activeDeadlineSeconds != null) {
    errs.push(fieldErrors.forbidden(`${tPath}.spec.activeDeadlineSeconds`, 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return errs;
}

/** ValidateDeploymentSpec. */
export function validateDeployment(d: Deployment): FieldError[] {
  const spec = d.spec;
  const errs = validateNonnegativeField(spec?.replicas ?? 0, 'spec.replicas');
  errs.push(...validateSelectorAndTemplate(spec?.selector, spec?.template, 'deployment', 'spec'));
  errs.push(...validateDeploymentStrategy(spec?.strategy, 'spec.strategy'));
  errs.push(...validateNonnegativeField(spec?.minReadySeconds ?? 0, 'spec.minReadySeconds'));
  if (spec?.revisionHistoryLimit != null) errs.push(...validateNonnegativeField(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec?.progressDeadlineSeconds != null) {
    errs.push(...validateNonnegativeField(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(fieldErrors.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

/** apps/v1 made selectors immutable: changing one would orphan the running pods. */
function selectorImmutable(sel: LabelSelector | undefined, old: LabelSelector | undefined): FieldError[] {
  if (sameSelector(sel, old)) return [];
  return [fieldErrors.invalid('spec.selector', sel ? goLabelSelector(sel) : null, fieldImmutableErrorMsg)];
}

export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  return [...validateDeployment(d), ...selectorImmutable(d.spec?.selector, old.spec?.selector)];
}

/** ValidateReplicaSetSpec (the empty-selector message says "deployment" upstream too). */
export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const spec = rs.spec;
  const errs = [
    ...validateNonnegativeField(spec?.replicas ?? 0, 'spec.replicas'),
    ...validateNonnegativeField(spec?.minReadySeconds ?? 0, 'spec.minReadySeconds'),
  ];
  errs.push(...validateSelectorAndTemplate(spec?.selector, spec?.template, 'deployment', 'spec'));
  return errs;
}

export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  return [...validateReplicaSet(rs), ...selectorImmutable(rs.spec?.selector, old.spec?.selector)];
}

/** ValidateDaemonSetSpec: no "Required" for the selector upstream, only the template mismatch. */
export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  const spec = ds.spec;
  const selector = spec?.selector;
  const template = spec?.template;
  const errs = validateLabelSelector(selector, 'spec.selector');
  if (errs.length === 0 && !labelSelectorMatches(selector, template?.metadata?.labels)) {
    errs.push(fieldErrors.invalid('spec.template.metadata.labels', goStringMap(template?.metadata?.labels), '`selector` does not match template `labels`'));
  }
  if (selector != null && isEmptySelector(selector)) {
    errs.push(fieldErrors.invalid('spec.selector', goLabelSelector(selector), 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(template, 'spec.template'));
  const restartPolicy = template?.spec?.restartPolicy;
  if (restartPolicy != null && restartPolicy !== 'Always') errs.push(notSupportedInOrder('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
  if (template?.spec?.activeDeadlineSeconds != null) {
    errs.push(fieldErrors.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in DaemonSet is not Supported'));
  }
  errs.push(...validateNonnegativeField(spec?.minReadySeconds ?? 0, 'spec.minReadySeconds'));
  const strategy = spec?.updateStrategy;
  if (strategy?.type && strategy.type !== 'RollingUpdate' && strategy.type !== 'OnDelete') {
    const literal = `apps.DaemonSetUpdateStrategy{Type:${JSON.stringify(strategy.type)}, RollingUpdate:(*apps.RollingUpdateDaemonSet)(${strategy.rollingUpdate ? '…' : 'nil'})}`;
    errs.push(notSupportedInOrder('spec.updateStrategy', new GoLiteral(literal), ['RollingUpdate', 'OnDelete']));
  } else if (strategy?.type === 'RollingUpdate' && strategy.rollingUpdate) {
    const p = 'spec.updateStrategy.rollingUpdate';
    const maxUnavailable = strategy.rollingUpdate.maxUnavailable ?? 1;
    const maxSurge = strategy.rollingUpdate.maxSurge ?? 0;
    errs.push(...validatePositiveIntOrPercent(maxUnavailable, `${p}.maxUnavailable`));
    errs.push(...validatePositiveIntOrPercent(maxSurge, `${p}.maxSurge`));
    errs.push(...isNotMoreThan100Percent(maxUnavailable, `${p}.maxUnavailable`));
    errs.push(...isNotMoreThan100Percent(maxSurge, `${p}.maxSurge`));
    const hasUnavailable = intOrPercentValue(maxUnavailable) !== 0;
    const hasSurge = intOrPercentValue(maxSurge) !== 0;
    if (hasUnavailable && hasSurge) errs.push(fieldErrors.invalid(`${p}.maxSurge`, intOrStringLiteral(maxSurge), 'may not be set when maxUnavailable is non-zero'));
    else if (!hasUnavailable && !hasSurge) errs.push(fieldErrors.required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
  }
  if (spec?.revisionHistoryLimit != null) errs.push(...validateNonnegativeField(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

export function validateDaemonSetUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  return [...validateDaemonSet(ds), ...selectorImmutable(ds.spec?.selector, old.spec?.selector)];
}

// ---------------------------------------------------------------- config, namespaces, nodes

/** ValidateConfigMap: keys become file names, so they are restricted; 1 MiB in total. */
export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    errs.push(...isConfigMapKey(k).map((msg) => fieldErrors.invalid(key('data', k), k, msg)));
    if (cm.binaryData && k in cm.binaryData) errs.push(fieldErrors.invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(v);
  }
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
    errs.push(...isConfigMapKey(k).map((msg) => fieldErrors.invalid(key('binaryData', k), k, msg)));
    total += Buffer.from(v, 'base64').length;
  }
  // The path is empty: the error is about the whole object.
  if (total > maxConfigMapSize) errs.push(fieldErrors.tooLong('', maxConfigMapSize));
  return errs;
}

/** ValidateConfigMapUpdate: an immutable ConfigMap keeps its data and its immutability. */
export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable) {
    if (!cm.immutable) errs.push(fieldErrors.forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (JSON.stringify(cm.data ?? {}) !== JSON.stringify(old.data ?? {})) errs.push(fieldErrors.forbidden('data', 'field is immutable when `immutable` is set'));
    if (JSON.stringify(cm.binaryData ?? {}) !== JSON.stringify(old.binaryData ?? {})) {
      errs.push(fieldErrors.forbidden('binaryData', 'field is immutable when `immutable` is set'));
    }
  }
  return [...errs, ...validateConfigMap(cm)];
}

/** ValidateNamespace: spec.finalizers are qualified, and unprefixed ones must be standard. */
export function validateNamespace(ns: Namespace): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ns.spec?.finalizers ?? []) {
    errs.push(...qualifiedName(f, 'spec.finalizers'));
    errs.push(...validateKubeFinalizerName(f, 'spec.finalizers'));
  }
  return errs;
}

/** ValidateNode (the network part): pod CIDRs are CIDRs, one per family, no duplicates. */
export function validateNode(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  const cidrs = node.spec?.podCIDRs ?? [];
  cidrs.forEach((c, i) => errs.push(...validateCIDR(c, `spec.podCIDRs[${i}]`)));
  if (cidrs.length > 1 && errs.length === 0) {
    const addrs = cidrs.map((c) => c.split('/')[0]);
    if (!isDualStackIPs(addrs) || cidrs.length > 2) errs.push(fieldErrors.invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(fieldErrors.duplicate(`spec.podCIDRs[${i}]`, c));
      seen.add(c);
    });
  }
  return errs;
}

/** ValidateNodeUpdate: pod CIDRs and providerID may be set once, never changed. */
export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs = validateNode(node);
  const oldCIDRs = old.spec?.podCIDRs ?? [];
  const newCIDRs = node.spec?.podCIDRs ?? [];
  const msg = 'node updates may not change podCIDR except from "" to valid';
  if (oldCIDRs.length > 0) {
    if (oldCIDRs.length !== newCIDRs.length) errs.push(fieldErrors.forbidden('spec.podCIDRs', msg));
    else oldCIDRs.forEach((c, i) => c !== newCIDRs[i] && errs.push(fieldErrors.forbidden('spec.podCIDRs', msg)));
  }
  if (old.spec?.providerID && old.spec.providerID !== node.spec?.providerID) {
    errs.push(fieldErrors.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  return errs;
}
