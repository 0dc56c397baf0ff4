// The container spec input the config.json tests start from: a plain
// container of pod "web-0" on a host with every capability and swap limits.
import { ALL_CAPABILITIES } from '../../../src/agent/oci/capabilities.js';
import { containerSpec, type ContainerSpecInput } from '../../../src/agent/oci/spec.js';

export const baseSpecInput: ContainerSpecInput = {
  args: ['/bin/sh', '-c', 'true'],
  rootfs: 'rootfs',
  hostname: 'web-0',
  user: { uid: 0, gid: 0, additionalGids: [0] },
  namespaces: { network: '/var/run/netns/pod', ipc: '/pods/p/ipc', uts: '/pods/p/uts' },
  cgroupsPath: '/kubesvc/kubepods/podu/c1',
  host: { allCapabilities: ALL_CAPABILITIES, swapLimit: true, nofileHard: 1048576 },
};

/** The config.json of the base input with `o` over it. */
export const specWith = (o: Partial<ContainerSpecInput> = {}) => containerSpec({ ...baseSpecInput, ...o });
