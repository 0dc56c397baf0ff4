// A container description the runtime cannot turn into a spec (a user that
// does not exist in the image, a sysctl that is not namespaced, ...): the
// kubelet reports it as CreateContainerConfigError with this message.
export class ContainerSpecError extends Error {
  override name = 'ContainerSpecError';
}
