// Pull-secret credentials matched to images as the kubelet's keyring does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialsFor, DockerKeyring, entryCredentials, urlsMatch, type PullSecret } from '../../src/oci/docker-config.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerconfigjson = (auths: object): PullSecret => ({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } });

describe('pull secret credentials', () => {
  it('reads auth (base64 user:password) or username and password', () => {
    assert.deepEqual(entryCredentials({ auth: b64('user:pa:ss') }), { username: 'user', password: 'pa:ss' });
    assert.deepEqual(entryCredentials({ username: 'u', password: 'p' }), { username: 'u', password: 'p' });
    assert.deepEqual(entryCredentials({ username: 'ignored', password: 'x', auth: b64('a:b') }), { username: 'a', password: 'b' });
    assert.throws(() => entryCredentials({ auth: b64('no-colon') }), /unable to parse auth field, must be formatted as base64\(username:password\)/);
  });

  it('matches Docker Hub images to https://index.docker.io/v1/', () => {
    const secrets = [dockerconfigjson({ 'https://index.docker.io/v1/': { auth: b64('hub:secret') } })];
    for (const repo of ['docker.io/library/nginx', 'docker.io/team/app']) assert.deepEqual(credentialsFor(repo, secrets), [{ username: 'hub', password: 'secret' }], repo);
    assert.deepEqual(credentialsFor('quay.io/team/app', secrets), []);
    assert.deepEqual(credentialsFor('localhost:5000/app', secrets), []);
  });

  it('matches hosts with ports, paths (most specific first) and wildcards', () => {
    const secrets: PullSecret[] = [
      dockerconfigjson({ 'localhost:5000': { username: 'local', password: 'l' }, 'quay.io': { username: 'quay', password: 'q' }, 'https://quay.io/team': { username: 'team', password: 't' } }),
      { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ '*.example.com': { username: 'wild', password: 'w' } })) } },
      { type: 'Opaque', data: { '.dockerconfigjson': b64('{"auths":{"other.io":{"auth":"' + b64('no:no') + '"}}}') } },
    ];
    const names = (repo: string) => credentialsFor(repo, secrets).map((c) => c.username);
    assert.deepEqual(names('localhost:5000/app'), ['local']);
    assert.deepEqual(names('localhost:5001/app'), []);
    assert.deepEqual(names('quay.io/team/app'), ['team', 'quay']);
    assert.deepEqual(names('quay.io/other/app'), ['quay']);
    assert.deepEqual(names('registry.example.com/app'), ['wild']);
    assert.deepEqual(names('a.b.example.com/app'), []);
    assert.deepEqual(names('other.io/app'), [], 'an Opaque secret is not a pull secret');
    assert.ok(urlsMatch('*.docker.io', 'blah.docker.io'));
    assert.ok(!urlsMatch('*.docker.io', 'not.right.io'));
  });

  it('keeps every credential for one registry, in order, across secrets', () => {
    const k = new DockerKeyring().addSecrets([dockerconfigjson({ 'r.io': { username: 'one', password: '1' } }), dockerconfigjson({ 'https://r.io/v2/': { username: 'two', password: '2' } })]);
    assert.deepEqual(k.lookup('r.io/app').map((c) => c.username), ['one', 'two']);
  });
});
