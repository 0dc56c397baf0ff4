// Query parameters as kube-apiserver reads them: the boolean rule (only
// absent, "0" and "false" in any case are false), int64 parsing with Go's
// errors, the verb a watch=… request gets, and the continue token of a
// chunked list — its encoding and every way a bad one is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryBool, queryInt64 } from '../src/apiserver/query-params.js';
import { parseRequestInfo } from '../src/apiserver/request-info.js';
import { ContinueTokenError, decodeContinue, encodeContinue } from '../src/storage/continue-token.js';

const q = (s: string) => new URLSearchParams(s);

test('a boolean parameter is false only when absent, "0" or "false" in any case', () => {
  for (const falsy of ['', 'watch=0', 'watch=false', 'watch=False', 'watch=FALSE', 'watch=fAlSe', 'other=true']) {
    assert.equal(queryBool(q(falsy), 'watch'), false, falsy);
  }
  for (const truthy of ['watch', 'watch=', 'watch=1', 'watch=true', 'watch=True', 'watch=TRUE', 'watch=yes', 'watch=no', 'watch=00', 'watch=f']) {
    assert.equal(queryBool(q(truthy), 'watch'), true, truthy);
  }
  // The first value of a repeated parameter decides.
  assert.equal(queryBool(q('watch=false&watch=true'), 'watch'), false);
  assert.equal(queryBool(q('watch=True&watch=0'), 'watch'), true);
});

test('an int64 parameter is parsed as strconv.ParseInt does, its errors worded as Go words them', () => {
  assert.equal(queryInt64(q(''), 'limit'), undefined);
  assert.equal(queryInt64(q('limit=500'), 'limit'), 500);
  assert.equal(queryInt64(q('limit=%2B5'), 'limit'), 5);
  assert.equal(queryInt64(q('limit=-1'), 'limit'), -1);
  for (const [query, message] of [
    ['limit=abc', 'strconv.ParseInt: parsing "abc": invalid syntax'],
    ['limit=', 'strconv.ParseInt: parsing "": invalid syntax'],
    ['limit=1.5', 'strconv.ParseInt: parsing "1.5": invalid syntax'],
    ['limit=9223372036854775808', 'strconv.ParseInt: parsing "9223372036854775808": value out of range'],
  ]) {
    assert.throws(() => queryInt64(q(query!), 'limit'), (e: any) => e.code === 400 && e.status.reason === 'BadRequest' && e.message === message, query);
  }
});

test('watch=True makes a collection GET a watch; on a named path watch is not read', () => {
  const verb = (path: string, query: string) => parseRequestInfo('GET', path, q(query)).verb;
  assert.equal(verb('/api/v1/namespaces/default/configmaps', 'watch=True'), 'watch');
  assert.equal(verb('/api/v1/namespaces/default/configmaps', 'watch='), 'watch');
  assert.equal(verb('/api/v1/namespaces/default/configmaps', 'watch=FALSE'), 'list');
  assert.equal(verb('/api/v1/namespaces/default/configmaps', 'watch=0'), 'list');
  assert.equal(verb('/api/v1/namespaces/default/configmaps/one', 'watch=true'), 'get');
});

test('a continue token is unpadded base64url of upstream\'s {"v","rv","start"}, the start relative to the prefix', () => {
  const prefix = '/registry/configmaps/';
  const token = encodeContinue('/registry/configmaps/default/cm-1\x00', prefix, 71);
  assert.doesNotMatch(token, /[=+/]/);
  assert.equal(Buffer.from(token, 'base64url').toString(), '{"v":"meta.k8s.io/v1","rv":71,"start":"default/cm-1\\u0000"}');
  assert.deepEqual(decodeContinue(token, prefix), { fromKey: '/registry/configmaps/default/cm-1\x00', revision: 71 });
  // -1: go on at the latest revision (the token an expired one is answered with).
  assert.equal(decodeContinue(encodeContinue('/registry/configmaps/x', prefix, -1), prefix).revision, -1);
  assert.throws(() => encodeContinue('/registry/services/x', prefix, 1), /the key and key prefix do not match/);
});

test('a continue token that is not one is refused with the message of upstream\'s decoder', () => {
  const prefix = '/registry/configmaps/default/';
  const raw = (json: string) => Buffer.from(json).toString('base64url');
  const cases: [string, string][] = [
    // base64 faults: the offset of the byte the decoder could not use.
    ['a=bc', 'continue key is not valid: illegal base64 data at input byte 1'],
    ['abcd+efg', 'continue key is not valid: illegal base64 data at input byte 4'],
    ['abcde', 'continue key is not valid: illegal base64 data at input byte 4'],
    // JSON faults, named as Go's scanner names them ("garbage" decodes to the byte 0x81 first).
    ['garbage', "continue key is not valid: invalid character '\\u0081' looking for beginning of value"],
    [raw('{"v":"meta.k8s.io/v1"'), 'continue key is not valid: unexpected end of JSON input'],
    [raw('{"v" "x"}'), "continue key is not valid: invalid character '\"' after object key"],
    [raw('[]'), 'continue key is not valid: json: cannot unmarshal array into Go value of type storage.continueToken'],
    [raw('{"v":"meta.k8s.io/v1","rv":"7","start":"a"}'), 'continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64'],
    [raw('{"v":"meta.k8s.io/v1","RV":1.5,"start":"a"}'), 'continue key is not valid: json: cannot unmarshal number 1.5 into Go struct field continueToken.rv of type int64'],
    [raw('{"v":1,"rv":7,"start":"a"}'), 'continue key is not valid: json: cannot unmarshal number into Go struct field continueToken.v of type string'],
    // What it decodes to, checked as upstream checks it.
    [raw('{"v":"meta.k8s.io/v2","rv":7,"start":"a"}'), 'continue key is not valid: server does not recognize this encoded version meta.k8s.io/v2'],
    [raw('{"v":"meta.k8s.io/v1","rv":0,"start":"a"}'), 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)'],
    [raw('{"v":"meta.k8s.io/v1","rv":7}'), 'continue key is not valid: encoded start key empty (version meta.k8s.io/v1)'],
    [raw('{"v":"meta.k8s.io/v1","rv":7,"start":"../secrets/x"}'), 'continue key is not valid: ../secrets/x'],
    [raw('{"v":"meta.k8s.io/v1","rv":7,"start":"a//b"}'), 'continue key is not valid: a//b'],
  ];
  for (const [token, message] of cases) {
    assert.throws(() => decodeContinue(token, prefix), (e: unknown) => e instanceof ContinueTokenError && e.message === message, `${token}: ${message}`);
  }
  // Go's decoder matches field names whatever their case; unknown fields are ignored.
  assert.deepEqual(decodeContinue(raw('{"V":"meta.k8s.io/v1","Rv":7,"START":"b","x":1}'), prefix), { fromKey: prefix + 'b', revision: 7 });
});
