// Maps a container's image (and command/args) to what the runtime runs.
// Well-known images are "built in": implemented in Node by src/images/main.ts
// (agnhost, nginx, pause, the cluster's components, ...), or, for
// general-purpose images (busybox, alpine, ...), their command run with the
// node's own programs. Either way the container runs under the OCI runtime
// on a read-only view of the host's files (./oci-launcher.ts); any other
// image is pulled (./image-pull.ts).
import { fileURLToPath } from 'node:url';
import type { ContainerSpecLite, ImagePlan } from './contracts.js';
import { shQuote } from '../util/shell-quote.js';
import { DEFAULT_NGINX_VERSION, nginxPages } from './nginx-pages.js';

/** The agnhost subcommands implemented by the built-in agnhost. */
export const AGNHOST_SUBCOMMANDS: readonly string[] = ['netexec', 'serve-hostname', 'pause', 'liveness', 'porter', 'connect', 'dns-suffix', 'dns-server-list', 'etc-hosts'];

/** The images kubesvc implements or runs with host tools, for messages. */
export const BUILTIN_IMAGES: readonly string[] = [
  'agnhost', 'pause', 'nginx', 'node-hello', 'hello-app', 'kubernetes-bootcamp', 'echoserver', 'http-echo', 'serve_hostname', 'coredns', 'kube-proxy',
  'busybox', 'alpine', 'debian', 'ubuntu', 'curlimages/curl',
];

/** Node flags for image processes: a small young generation keeps idle and lightly loaded servers small. */
/** The node flags every built-in image's process runs with (pods are many small processes). */
export const NODE_FLAGS = ['--max-semi-space-size=1'];

export interface ImageRef {
  /** "docker.io" when the reference names none. */
  registry: string;
  /** Path in the registry, e.g. "library/nginx", "e2e-test-images/agnhost". */
  repository: string;
  /** Last path component, e.g. "nginx", "agnhost". */
  name: string;
  /** Path before the name ("library", "e2e-test-images", "" when none). */
  namespace: string;
  tag?: string;
  digest?: string;
}

/** Parses an image reference the way the docker/containerd reference grammar splits it. */
export function parseImageRef(image: string): ImageRef {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let registry = 'docker.io';
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  const repository = (registry === 'docker.io' && !rest.includes('/') ? `library/${rest}` : rest).toLowerCase();
  const i = repository.lastIndexOf('/');
  return { registry, repository, name: repository.slice(i + 1), namespace: i >= 0 ? repository.slice(0, i) : '', tag, digest };
}

let entryCache: string[] | undefined;

/** Set by scripts/bundle.mjs: this code runs from the bundle in dist/, whose chunks sit beside dist/images.js. */
declare const KUBESVC_BUNDLED: boolean | undefined;

/**
 * Node arguments that run the images' entry, before the image kind: the
 * bundled dist/images.js beside this chunk, or, when running from sources
 * (this module is .ts), src/images/main.ts through tsx's loader
 * (resolved to an absolute URL, so the process's cwd does not matter).
 */
export function imageEntry(): string[] {
  if (entryCache) return entryCache;
  const here = import.meta.url;
  if (typeof KUBESVC_BUNDLED !== 'undefined' && KUBESVC_BUNDLED) {
    entryCache = [...NODE_FLAGS, fileURLToPath(new URL('./images.js', here))];
  } else {
    let tsx = 'tsx';
    try {
      tsx = import.meta.resolve('tsx');
    } catch {
      // keep the bare name; node resolves it from the cwd
    }
    entryCache = [...NODE_FLAGS, '--import', tsx, fileURLToPath(new URL('../images/main.ts', here))];
  }
  return entryCache;
}

/** Full argv running built-in image `kind` with `args`: [node, ...imageEntry(), kind, ...args]. */
export function builtinArgv(kind: string, args: string[] = []): string[] {
  return [process.execPath, ...imageEntry(), kind, ...args];
}

type Kind =
  | 'agnhost' | 'serve_hostname' | 'pause' | 'nginx' | 'nginx-unprivileged' | 'node-hello' | 'hello-app' | 'kubernetes-bootcamp'
  | 'echoserver' | 'http-echo' | 'curl' | 'shell' | 'coredns' | 'kube-proxy';

const SHELL_IMAGES: Record<string, string[]> = {
  busybox: ['sh'],
  alpine: ['/bin/sh'],
  debian: ['bash'],
  ubuntu: ['bash'],
  fedora: ['/bin/bash'],
  centos: ['/bin/bash'],
  rockylinux: ['/bin/bash'],
  almalinux: ['/bin/bash'],
  amazonlinux: ['/bin/bash'],
};

function classify(ref: ImageRef): Kind | undefined {
  const { name, namespace } = ref;
  if (name === 'agnhost') return 'agnhost';
  if (name === 'serve_hostname' || name === 'serve-hostname') return 'serve_hostname';
  if (/^pause(-(amd64|arm64|arm|ppc64le|s390x|windows))?$/.test(name) || name === 'mirrored-pause') return 'pause';
  if (name === 'nginx-unprivileged') return 'nginx-unprivileged';
  if (name === 'nginx' && namespace !== 'bitnami') return 'nginx';
  if (name === 'node-hello') return 'node-hello';
  if (name === 'hello-app') return 'hello-app';
  if (name === 'kubernetes-bootcamp') return 'kubernetes-bootcamp';
  if (name === 'echoserver') return 'echoserver';
  if (name === 'http-echo') return 'http-echo';
  if (name === 'coredns') return 'coredns';
  if (name === 'kube-proxy') return 'kube-proxy';
  if (name === 'curl' && (namespace === 'curlimages' || namespace === 'appropriate')) return 'curl';
  if (SHELL_IMAGES[name]) return 'shell';
  return undefined;
}

const AGNHOST_BINARIES = new Set(['agnhost', 'agnhost-2']);

function base(path: string | undefined): string {
  return (path ?? '').split('/').pop() ?? '';
}

function nginxVersion(tag: string | undefined): string {
  return /^(\d+\.\d+\.\d+)/.exec(tag ?? '')?.[1] ?? DEFAULT_NGINX_VERSION;
}

/**
 * The image's /agnhost: a script running the built-in agnhost, so that
 * `kubectl exec … -- /agnhost …`, exec probes and shell commands find it
 * where the real image has its binary.
 */
function agnhostBinary(): { path: string; content: string; mode: number } {
  return { path: '/agnhost', content: `#!/bin/sh\nexec ${builtinArgv('agnhost').map(shQuote).join(' ')} "$@"\n`, mode: 0o755 };
}

function agnhostPlan(argv: string[]): ImagePlan {
  const sub = argv[0];
  if (sub === undefined || sub.startsWith('-') || AGNHOST_SUBCOMMANDS.includes(sub)) {
    return { kind: 'run', argv: builtinArgv('agnhost', argv), program: 'agnhost', files: [agnhostBinary()] };
  }
  return {
    kind: 'waiting',
    reason: 'CreateContainerError',
    message: `kubesvc's built-in agnhost does not implement the "${sub}" subcommand; it implements: ${AGNHOST_SUBCOMMANDS.join(', ')}`,
  };
}

/** What the runtime runs for a container. */
export function resolveImage(container: ContainerSpecLite): ImagePlan {
  const ref = parseImageRef(container.image);
  const command = container.command && container.command.length > 0 ? container.command : undefined;
  const args = container.args ?? [];
  const host = (argv: string[]): ImagePlan => ({ kind: 'run', argv });
  const builtin = (kind: string, a: string[] = []): ImagePlan => ({ kind: 'run', argv: builtinArgv(kind, a), program: kind });

  switch (classify(ref)) {
    case 'agnhost': {
      // ENTRYPOINT ["/agnhost"], CMD ["pause"]
      if (command) return AGNHOST_BINARIES.has(base(command[0])) ? agnhostPlan([...command.slice(1), ...args]) : { kind: 'run', argv: [...command, ...args], files: [agnhostBinary()] };
      return agnhostPlan(args.length > 0 ? args : ['pause']);
    }
    case 'serve_hostname': {
      // ENTRYPOINT ["/serve_hostname"]; Go flags (-port=9376 -udp ...).
      if (command && base(command[0]) !== 'serve_hostname') return host([...command, ...args]);
      return builtin('agnhost', ['serve-hostname', ...(command ? command.slice(1) : []), ...args]);
    }
    case 'pause':
      if (command && base(command[0]) !== 'pause') return host([...command, ...args]);
      return builtin('pause', command ? [...command.slice(1), ...args] : args);
    case 'nginx':
    case 'nginx-unprivileged': {
      // ENTRYPOINT ["/docker-entrypoint.sh"], CMD ["nginx", "-g", "daemon off;"]
      let argv = command ? [...command, ...args] : args.length > 0 ? args : ['nginx', '-g', 'daemon off;'];
      if (command && base(argv[0]) === 'docker-entrypoint.sh') argv = argv.slice(1);
      if (argv.length > 0 && base(argv[0]) !== 'nginx' && base(argv[0]) !== 'nginx-debug') return host(argv);
      const version = nginxVersion(ref.tag);
      const root = '/usr/share/nginx/html';
      const pages = nginxPages(version);
      return {
        kind: 'run',
        argv: builtinArgv('nginx', [`--port=${classify(ref) === 'nginx' ? 80 : 8080}`, `--root=${root}`, `--version=${version}`]),
        env: { NGINX_VERSION: version },
        program: 'nginx',
        files: [
          { path: `${root}/index.html`, content: pages['index.html'] },
          { path: `${root}/50x.html`, content: pages['50x.html'] },
        ],
      };
    }
    case 'node-hello':
    case 'kubernetes-bootcamp': {
      // CMD node server.js
      const kind = classify(ref)!;
      const fromTag = kind === 'kubernetes-bootcamp' ? [`--version=${/^v(\d+)/.exec(ref.tag ?? '')?.[1] ?? '1'}`] : [];
      if (command) {
        const rest = [...command.slice(1), ...args];
        return base(command[0]) === 'node' && rest.length === 1 && base(rest[0]) === 'server.js' ? builtin(kind, fromTag) : host([...command, ...args]);
      }
      return args.length > 0 ? host(args) : builtin(kind, fromTag);
    }
    case 'hello-app': {
      if (command && base(command[0]) !== 'hello-app') return host([...command, ...args]);
      const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(ref.tag ?? '');
      return builtin('hello-app', [`--version=${m ? `${m[1]}.${m[2]}.${m[3] ?? 0}` : '1.0.0'}`]);
    }
    case 'echoserver':
      return command ? host([...command, ...args]) : builtin('echoserver');
    case 'http-echo': {
      // ENTRYPOINT ["/http-echo"]
      if (command && base(command[0]) !== 'http-echo') return host([...command, ...args]);
      return builtin('http-echo', [...(command ? command.slice(1) : []), ...args]);
    }
    case 'coredns': {
      // ENTRYPOINT ["/coredns"]: the built-in is kubesvc's cluster DNS, configured by `kubesvc dns` flags (not a Corefile).
      if (command && base(command[0]) !== 'coredns') return host([...command, ...args]);
      return builtin('coredns', [...(command ? command.slice(1) : []), ...args]);
    }
    case 'kube-proxy': {
      // No ENTRYPOINT; the command is /usr/local/bin/kube-proxy: the built-in is `kubesvc proxy` (kube-proxy's flags).
      const argv = command ? [...command, ...args] : args;
      if (argv.length > 0 && base(argv[0]) === 'kube-proxy') return builtin('kube-proxy', argv.slice(1));
      return command ? host(argv) : builtin('kube-proxy', argv);
    }
    case 'curl': {
      // ENTRYPOINT ["/entrypoint.sh"] (prepends curl to flags), CMD ["curl"]
      if (command) return host([...command, ...args]);
      if (args.length === 0) return host(['curl']);
      return host(args[0]!.startsWith('-') ? ['curl', ...args] : args);
    }
    case 'shell':
      // No ENTRYPOINT; CMD is the shell.
      if (command) return host([...command, ...args]);
      return host(args.length > 0 ? args : SHELL_IMAGES[ref.name]!);
    default:
      if (command) return host([...command, ...args]);
      return {
        kind: 'waiting',
        reason: 'ErrImagePull',
        message: `kubesvc runs pods as processes and has no built-in image "${container.image}"; give the container a command, or use one of: ${BUILTIN_IMAGES.join(', ')}`,
      };
  }
}

/** Whether kubesvc builds the image in (runs it with its own programs or the host's tools) rather than pulling it. */
export function isBuiltinImage(image: string): boolean {
  return classify(parseImageRef(image)) !== undefined;
}
