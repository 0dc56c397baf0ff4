// The continue token of a chunked list, as kube-apiserver's storage layer
// writes it: unpadded base64url of {"v":"meta.k8s.io/v1","rv":<revision of
// the first chunk>,"start":<the key to go on from, relative to the
// collection's prefix>}. Clients hand it back untouched, so what it decodes
// to is checked as upstream checks it, and its faults are worded as Go's
// decoders word them: that text is what the 400 says.
import { posix } from 'node:path';
import { jsonKind, JsonSyntaxError, parseJson } from '../api/json.js';

const tokenVersion = 'meta.k8s.io/v1';

/** A continue parameter that is not a token this server wrote; the message is upstream's. */
export class ContinueTokenError extends Error {}

/** The token for going on from `key` (under `prefix`) at `revision`; -1 means "at the latest revision". */
export function encodeContinue(key: string, prefix: string, revision: number): string {
  if (!key.startsWith(prefix) || key === prefix) {
    throw new Error(`unable to encode next field: the key and key prefix do not match ${prefix} ${key}`);
  }
  const token = { v: tokenVersion, rv: revision, start: key.slice(prefix.length) };
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

/** The key to go on from and the revision to read at (-1: the latest); ContinueTokenError otherwise. */
export function decodeContinue(token: string, prefix: string): { fromKey: string; revision: number } {
  const fields = readToken(rawUrlBase64(token));
  if (fields.v !== tokenVersion) {
    throw new ContinueTokenError(`continue key is not valid: server does not recognize this encoded version ${fields.v}`);
  }
  if (fields.rv === 0) throw new ContinueTokenError(`continue key is not valid: incorrect encoded start resourceVersion (version ${tokenVersion})`);
  if (!fields.start) throw new ContinueTokenError(`continue key is not valid: encoded start key empty (version ${tokenVersion})`);
  // The start key may not climb out of the collection: it must already be
  // in the form path.Clean gives it, so "../" or "//" are refused.
  const key = fields.start.startsWith('/') ? fields.start : '/' + fields.start;
  if (cleanPath(key) !== key) throw new ContinueTokenError(`continue key is not valid: ${fields.start}`);
  return { fromKey: prefix + key.slice(1), revision: fields.rv };
}

/** Go's path.Clean: posix normalization, and no trailing slash but on the root. */
function cleanPath(p: string): string {
  const normal = posix.normalize(p);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

const base64url = /[A-Za-z0-9_-]/;

/**
 * Go's base64.RawURLEncoding.DecodeString: the URL alphabet without
 * padding, newlines skipped, and the offset of the first byte it cannot
 * use in the error.
 */
function rawUrlBase64(token: string): Buffer {
  const bytes = Buffer.from(token, 'utf8');
  const kept: string[] = [];
  let inQuantum = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = String.fromCharCode(bytes[i]!);
    if (c === '\n' || c === '\r') continue;
    if (!base64url.test(c)) throw invalid(`illegal base64 data at input byte ${i}`);
    kept.push(c);
    inQuantum = (inQuantum + 1) % 4;
  }
  // One character alone in the last quantum carries less than a byte.
  if (inQuantum === 1) throw invalid(`illegal base64 data at input byte ${bytes.length - 1}`);
  return Buffer.from(kept.join(''), 'base64url');
}

interface TokenFields {
  v: string;
  rv: number;
  start: string;
}

const int64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/**
 * json.Unmarshal into the token struct: syntax errors first, then fields
 * matched case-insensitively (the last of duplicates wins), the first type
 * mismatch reported, null leaving a field unset.
 */
function readToken(data: Buffer): TokenFields {
  let parsed;
  try {
    // Go's scanner reads bytes: one character per byte names the offender as Go does.
    parseJson(data.toString('latin1'));
    parsed = parseJson(data.toString('utf8'));
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw invalid(e.message);
    throw e;
  }
  const value = parsed.value;
  const fields: TokenFields = { v: '', rv: 0, start: '' };
  if (value === null) return fields;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`json: cannot unmarshal ${jsonKind(value)} into Go value of type storage.continueToken`);
  }
  const record = value as Record<string, unknown>;
  const literals = parsed.literals.get(record);
  let mismatch: string | undefined;
  // The error names the field by its tag, however the key was spelled.
  const wrongType = (field: string, got: string, type: string) => {
    mismatch ??= `json: cannot unmarshal ${got} into Go struct field continueToken.${field} of type ${type}`;
  };
  for (const [key, v] of Object.entries(record)) {
    const field = (['v', 'rv', 'start'] as const).find((f) => f === key.toLowerCase());
    if (!field || v === null) continue;
    if (field === 'rv') {
      const literal = literals?.get(key) ?? String(v);
      if (typeof v !== 'number') wrongType(field, jsonKind(v), 'int64');
      else if (!/^-?\d+$/.test(literal) || BigInt(literal) < int64.min || BigInt(literal) > int64.max) wrongType(field, `number ${literal}`, 'int64');
      else fields.rv = Number(literal);
    } else if (typeof v !== 'string') {
      wrongType(field, jsonKind(v), 'string');
    } else {
      fields[field] = v;
    }
  }
  if (mismatch) throw invalid(mismatch);
  return fields;
}

const invalid = (why: string) => new ContinueTokenError(`continue key is not valid: ${why}`);
