// Accept-header negotiation as kube-apiserver's (apiserver's
// endpoints/handlers/negotiation over goautoneg): the clauses ordered by q,
// then the more specific first (order kept otherwise); the first clause that
// one of the server's media types (json, yaml, protobuf, in that order)
// matches wins, so `*/*` and `application/*` mean JSON. Conversions (`as=`)
// to Table are JSON/YAML only; PartialObjectMetadata converts to any.
import { PROTOBUF } from './wire.js';

export type MediaType = 'application/json' | 'application/yaml' | typeof PROTOBUF;

const SERVER_TYPES: readonly MediaType[] = ['application/json', 'application/yaml', PROTOBUF];
/** Media types with a stream (watch) encoding: YAML has none. */
const STREAMING: ReadonlySet<MediaType> = new Set<MediaType>(['application/json', PROTOBUF]);

interface Clause {
  type: string;
  subType: string;
  q: number;
  params: Record<string, string>;
}

export function parseAccept(header: string): Clause[] {
  const clauses: Clause[] = [];
  for (const part of header.split(',')) {
    const [range, ...paramTexts] = part.split(';').map((s) => s.trim());
    if (!range) continue;
    const slash = range.indexOf('/');
    const type = slash < 0 ? range : range.slice(0, slash);
    const subType = slash < 0 ? '*' : range.slice(slash + 1);
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of paramTexts) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim();
      const v = p.slice(eq + 1).trim();
      if (k === 'q') q = Number(v) || 0;
      else params[k] = v;
    }
    clauses.push({ type: type.toLowerCase(), subType: subType.toLowerCase(), q, params });
  }
  // Array.prototype.sort is stable, as Go's insertion sort of short slices is.
  return clauses.sort((a, b) => {
    if (a.q !== b.q) return b.q - a.q;
    if (a.type !== '*' && b.type === '*') return -1;
    if (b.type !== '*' && a.type === '*') return 1;
    if (a.subType !== '*' && b.subType === '*') return -1;
    if (b.subType !== '*' && a.subType === '*') return 1;
    return 0;
  });
}

export interface Offer {
  /** Whether this response can be protobuf (the kind has a complete declaration). */
  protobuf: boolean;
  /** A watch: only media types with a stream encoding, and `stream=watch` is understood. */
  stream?: boolean;
  /** The kind of the response body when a conversion (as=) made it (Table, PartialObjectMetadata…). */
  converted?: string;
}

/** The media type to answer with, or undefined when none of the Accept clauses can be met (406). */
export function negotiate(header: string | undefined, offer: Offer): MediaType | undefined {
  if (!header) return 'application/json';
  for (const c of parseAccept(header)) {
    for (const t of SERVER_TYPES) {
      const [type, subType] = t.split('/') as [string, string];
      const matches = (c.type === type && (c.subType === subType || c.subType === '*')) || (c.type === '*' && c.subType === '*');
      if (matches && acceptable(t, c.params, offer)) return t;
    }
  }
  return undefined;
}

function acceptable(t: MediaType, params: Record<string, string>, offer: Offer): boolean {
  if (t === PROTOBUF && !offer.protobuf) return false;
  if (offer.stream && !STREAMING.has(t)) return false;
  if (params.stream !== undefined && params.stream !== '' && (params.stream !== 'watch' || !STREAMING.has(t))) return false;
  if (params.as !== undefined) {
    // The clause asks for a conversion: it is this response's only if the body is that conversion.
    if (params.as === 'Table') return t !== PROTOBUF && offer.converted === 'Table';
    return offer.converted !== undefined && offer.converted.replace(/List$/, '') === params.as.replace(/List$/, '');
  }
  return true;
}

/** kube-apiserver's 406 text: the serializer's media types (stream ones for a watch). */
export function notAcceptableMessage(stream: boolean): string {
  const types = stream ? [...STREAMING].map((t) => `${t};stream=watch`) : SERVER_TYPES;
  return `only the following media types are accepted: ${types.join(', ')}`;
}
