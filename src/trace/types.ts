// The shape of one trace, as `kubesvc trace -o json` prints it: every field
// is always present (null or [] when there is nothing to say), so scripts can
// rely on it. The text output is a rendering of the same value.

/** Where the probe leaves from. */
export interface TraceSource {
  kind: 'node' | 'pod';
  /** The node's or pod's name. */
  name: string;
  /** The pod's namespace; the namespace names are searched in for a node. */
  namespace: string;
  /** The node the source is on (the node itself for a node). */
  node: string;
  ip: string;
}

export type TargetVia = 'cluster-ip' | 'node-port' | 'external-ip' | 'load-balancer-ip' | 'pod-ip' | 'unknown';

/** What the probe is sent to, and the Service port it stands for (when one does). */
export interface TraceTarget {
  /** TARGET as given. */
  input: string;
  ip: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  via: TargetVia;
  /** "namespace/name" of the Service, or null. */
  service: string | null;
  /** The Service port's name ("" for an unnamed port), or null. */
  servicePort: string | null;
  /** For a node port: the node whose address it is. */
  node: string | null;
}

export interface DnsAnswer {
  name: string;
  ttl: number;
  type: 'A' | 'CNAME';
  data: string;
}

/** The cluster DNS query made from the source's namespace (null when TARGET was no name). */
export interface TraceDns {
  server: string;
  /** Names tried in order (the search path), the one answered last. */
  queries: { name: string; rcode: string }[];
  answers: DnsAnswer[];
}

export type ProbeResult = 'connected' | 'refused' | 'replied' | 'no-reply' | 'timeout' | 'unreachable' | 'error' | 'stopped';

export interface TraceProbe {
  sourcePort: number;
  result: ProbeResult;
  /** The socket error code, when there was one (ECONNREFUSED, EHOSTUNREACH, ...). */
  error: string | null;
  durationMs: number;
}

/** One rule or policy the packet met, in order. */
export interface TraceHop {
  node: string;
  table: string;
  chain: string;
  /** The rule as the kernel tool prints it ("" for a chain's policy). */
  rule: string;
  /** accept, drop, continue, jump, goto, return. */
  verdict: string;
  /** The chain jumped or gone to, or null. */
  target: string | null;
  /** What this hop means in Service terms, or null when it is plumbing. */
  meaning: string | null;
}

export interface TraceEndpoint {
  ip: string;
  port: number;
  /** "namespace/name" of the pod behind it, or null. */
  pod: string | null;
  node: string | null;
}

/** The userspace proxy's own pick for the probe (the kernel only sees the packet redirected to the proxy's socket). */
export interface TraceProxyChoice {
  /** The node whose proxy handled the probe. */
  node: string;
  /** "namespace/name:port" of the service port the proxy socket serves. */
  service: string;
  endpoint: TraceEndpoint;
  /** Picks the proxy made for this connection (more than one: a dial failed and it tried another endpoint; the endpoint is the last). */
  picks: number;
  /** When the proxy picked it (RFC 3339). */
  time: string;
}

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface TraceConntrack {
  node: string;
  protocol: string;
  state: string | null;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** ASSURED, UNREPLIED, ... */
  flags: string[];
}

export type OutcomeResult = 'delivered' | 'rejected' | 'dropped' | 'no-reply' | 'dns-failed' | 'not-sent';

export interface TraceOutcome {
  result: OutcomeResult;
  /** One sentence a user reads. */
  reason: string;
}

export interface TraceReport {
  source: TraceSource;
  target: TraceTarget;
  dns: TraceDns | null;
  /** The mode the nodes' proxies run (the configured one in parentheses when it falls back). */
  mode: string;
  /** The tool the path was read with. */
  tracer: 'nft monitor trace' | 'xtables-monitor --trace' | null;
  probe: TraceProbe | null;
  hops: TraceHop[];
  dnat: TraceEndpoint | null;
  /** Userspace mode: the endpoint the proxy itself sent the connection to, read from its /debug/userspace-choices; null in the kernel modes. */
  proxyChoice: TraceProxyChoice | null;
  conntrack: TraceConntrack[];
  outcome: TraceOutcome;
  /** Findings from the API that explain the outcome (no endpoints, pods not ready, port not exposed, ...). */
  explanations: string[];
  durationMs: number;
}
