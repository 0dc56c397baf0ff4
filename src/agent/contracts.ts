// The seams between the node agent's parts, so each can be built and tested
// alone: the node network (namespaces, bridges, veths), the built-in images,
// the container runtime, and the agent's local server for logs and exec.

/** Where a cluster's node lives on the shared node network. */
export interface NodeNetworkConfig {
  /** Short cluster id used in every namespace and link name this run creates (e.g. "k1"). */
  clusterId: string;
  nodeName: string;
  /** 0-based node index: node IP 172.18.0.(index+2), pod CIDR 10.244.(index).0/24. */
  nodeIndex: number;
  /** Other nodes' pod CIDRs and node IPs, routed from this node. */
  peers: PeerNode[];
}

/**
 * Another node, as this node routes to it: straight over the machine's node
 * bridge (`via` unset: its node IP is the gateway), or, for a node on another
 * machine, through the cluster namespace (`via` 172.18.0.1), whose overlay
 * carries the packet on (overlay.ts); its node IP then gets a route too.
 */
export interface PeerNode {
  podCIDR: string;
  nodeIP: string;
  via?: string;
}

export interface PodSandbox {
  /** Network namespace name (`ip netns exec NAME`). */
  netns: string;
  ip: string;
  /** Host-side interface name (in the node namespace). */
  hostVeth: string;
}

export interface NodeNetwork {
  /** The node's own network namespace (where the proxy's rules and NodePorts live). */
  netns: string;
  nodeIP: string;
  podCIDR: string;
  /** Creates the pod's namespace, veth into the node's pod bridge, IP from the pod CIDR, default route. */
  createPodSandbox(podUID: string): Promise<PodSandbox>;
  deletePodSandbox(podUID: string): Promise<void>;
  /** Replaces the routes to other nodes' pod CIDRs. */
  setPeers(peers: NodeNetworkConfig['peers']): Promise<void>;
  /** Removes every pod sandbox and the node's own namespace and links. */
  destroy(): Promise<void>;
}

/** What the runtime runs for one container of a given image. */
export type ImagePlan =
  | {
      kind: 'run';
      argv: string[];
      env?: Record<string, string>;
      /**
       * Paths the image "owns", private per pod (e.g. /usr/share/nginx/html) with their initial files;
       * a file at the root (/agnhost) is its own mount. `mode`: 0644 by default.
       */
      files?: { path: string; content: string; mode?: number }[];
      /** The kubesvc program that implements the image (src/images/main.ts's kind, e.g. "nginx"); none: the command runs with the node's own programs. */
      program?: string;
    }
  | { kind: 'waiting'; reason: string; message: string };

export interface ContainerSpecLite {
  image: string;
  command?: string[];
  args?: string[];
}

/** What the agent's local server needs from the runtime to serve logs and exec. */
export interface ContainerRuntimeView {
  /** The log file of a container's current run, or of the run before it (`previous`); undefined when none. */
  logFile(namespace: string, pod: string, container: string, previous: boolean): string | undefined;
  /** A pid inside the running container (its network and mount namespaces), for exec; undefined when not running. */
  containerPid(namespace: string, pod: string, container: string): number | undefined;
  /**
   * The command line that runs a command in the running container when its
   * runtime has its own exec (an OCI runtime's; the argv is appended), or
   * undefined: nsenter into the namespaces of containerPid's process.
   */
  containerExecPrefix?(namespace: string, pod: string, container: string, tty: boolean): string[] | undefined;
  /** The pod's containers by name, to default `-c` and word errors as the kubelet does. */
  containerNames(namespace: string, pod: string): string[] | undefined;
}

