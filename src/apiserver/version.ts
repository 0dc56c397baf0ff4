// What /version reports. The installed kubectl dispatcher picks its client
// binary from the minor version, so this says 1.32.
export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0+kubesvc',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-23T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};
