// The LoadBalancer IP pool as MetalLB's allocator keeps it: one address range;
// an address is held by one service, or shared by services with the same
// sharing key (and, for externalTrafficPolicy Local, the same selector) whose
// ports do not clash. Pure: the state is rebuilt from what services hold.
import type { Service } from '../../api/types.js';
import {
  bigIntToIP,
  canonicalIP as canonicalAddress,
  familyOfIPBytes,
  formatIP,
  ipToBigInt,
  parseCIDRSloppy,
  parseIPSloppy,
  type IPFamily,
} from '../../net/addr.js';

export const sharingAnnotation = 'metallb.io/allow-shared-ip';
export const deprecatedSharingAnnotation = 'metallb.universe.tf/allow-shared-ip';

export interface IPRange {
  family: IPFamily;
  first: bigint;
  last: bigint;
  /** As configured, for messages. */
  text: string;
}

/** What the allocator needs of a service. Ports are MetalLB's "PROTO/port" strings. */
export interface PoolUser {
  key: string;
  ports: string[];
  sharingKey: string;
  backendKey: string;
}

/** An address a service already holds (its status), to rebuild the state from. */
export interface Claim extends PoolUser {
  ip: string;
}

interface Holding {
  sharingKey: string;
  backendKey: string;
  /** service key → its ports on this address */
  users: Map<string, string[]>;
}

export interface PoolState {
  range: IPRange;
  /** canonical IP → who holds it */
  ips: Map<string, Holding>;
  /** service key → canonical IP */
  byService: Map<string, string>;
}

export type AllocateResult = { ip: string; error?: undefined } | { ip?: undefined; error: string };

/** The canonical spelling of an IP (blanks around it ignored), or undefined when it does not parse. */
export function canonicalIP(ip: string): string | undefined {
  return canonicalAddress(ip.trim());
}

/**
 * A CIDR ("172.18.255.0/24": every address, as MetalLB without avoidBuggyIPs)
 * or a from-to range ("172.18.255.1-172.18.255.250"). Throws on anything else.
 */
export function parseRange(text: string): IPRange {
  const s = text.trim();
  if (s.includes('/')) {
    const c = parseCIDRSloppy(s);
    if (!c) throw new Error(`invalid CIDR "${text}"`);
    const hostBits = BigInt(c.bits - c.prefix);
    const first = ipToBigInt(c.network);
    return { family: familyOfIPBytes(c.ip), first, last: first | ((1n << hostBits) - 1n), text: s };
  }
  const parts = s.split('-');
  if (parts.length !== 2) throw new Error(`invalid IP range "${text}": expected a CIDR or FROM-TO`);
  const from = parseIPSloppy(parts[0].trim());
  if (!from) throw new Error(`invalid IP range "${text}": invalid start IP "${parts[0].trim()}"`);
  const to = parseIPSloppy(parts[1].trim());
  if (!to) throw new Error(`invalid IP range "${text}": invalid end IP "${parts[1].trim()}"`);
  if (familyOfIPBytes(from) !== familyOfIPBytes(to)) throw new Error(`invalid IP range "${text}": start and end are different address families`);
  const first = ipToBigInt(from);
  const last = ipToBigInt(to);
  if (first > last) throw new Error(`invalid IP range "${text}": start IP "${parts[0].trim()}" is after the end IP "${parts[1].trim()}"`);
  return { family: familyOfIPBytes(from), first, last, text: s };
}

export function rangeContains(range: IPRange, ip: string): boolean {
  const b = parseIPSloppy(ip);
  if (!b || familyOfIPBytes(b) !== range.family) return false;
  const n = ipToBigInt(b);
  return n >= range.first && n <= range.last;
}

export function rangeSize(range: IPRange): bigint {
  return range.last - range.first + 1n;
}

/** labels.Set(selector).String(): sorted key=value pairs. */
function selectorString(selector: Record<string, string> | undefined): string {
  return Object.keys(selector ?? {})
    .sort()
    .map((k) => `${k}=${selector![k]}`)
    .join(',');
}

/** The sharing annotation (metallb.io wins over the deprecated metallb.universe.tf, as MetalLB reads them). */
export function sharingKeyOf(svc: Service): string {
  const a = svc.metadata?.annotations ?? {};
  return a[sharingAnnotation] ?? a[deprecatedSharingAnnotation] ?? '';
}

/** MetalLB's backend key: services with externalTrafficPolicy Local may only share with the same selector. */
export function backendKeyOf(svc: Service): string {
  return svc.spec?.externalTrafficPolicy === 'Local' ? selectorString(svc.spec.selector) : '';
}

export function portsOf(svc: Service): string[] {
  return (svc.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`);
}

export function poolUserOf(key: string, svc: Service): PoolUser {
  return { key, ports: portsOf(svc), sharingKey: sharingKeyOf(svc), backendKey: backendKeyOf(svc) };
}

export function emptyState(range: IPRange): PoolState {
  return { range, ips: new Map(), byService: new Map() };
}

function sharingError(existing: Holding, user: PoolUser): string | undefined {
  if (existing.sharingKey === '') return 'existing service does not allow sharing';
  if (user.sharingKey === '') return 'new service does not allow sharing';
  if (existing.sharingKey !== user.sharingKey) return `sharing key "${user.sharingKey}" does not match existing sharing key "${existing.sharingKey}"`;
  if (existing.backendKey !== user.backendKey) return `backend key "${user.backendKey}" does not match existing sharing key "${existing.backendKey}"`;
  return undefined;
}

/** Why `user` may not hold `ip` given the others in `state`, or undefined when it may. */
export function checkAssign(state: PoolState, ip: string, user: PoolUser): string | undefined {
  const canonical = canonicalIP(ip);
  if (!canonical || !rangeContains(state.range, canonical)) return `"${ip}" is not allowed in config`;
  const held = state.ips.get(canonical);
  if (!held) return undefined;
  const others = [...held.users.keys()].filter((k) => k !== user.key);
  if (others.length === 0) return undefined;
  const err = sharingError(held, user);
  if (err) return err;
  for (const port of user.ports) {
    for (const other of others) {
      if (held.users.get(other)!.includes(port)) return `port ${port} is already in use on "${canonical}"`;
    }
  }
  return undefined;
}

/** Frees whatever `key` holds; returns the address when nobody else holds it any more. */
export function release(state: PoolState, key: string): string | undefined {
  const ip = state.byService.get(key);
  if (!ip) return undefined;
  state.byService.delete(key);
  const held = state.ips.get(ip)!;
  held.users.delete(key);
  if (held.users.size > 0) return undefined;
  state.ips.delete(ip);
  return ip;
}

/** Records that `user` holds `ip`, after checkAssign said it may. Returns the error otherwise. */
export function assign(state: PoolState, ip: string, user: PoolUser): string | undefined {
  const err = checkAssign(state, ip, user);
  if (err) return err;
  const canonical = canonicalIP(ip)!;
  release(state, user.key);
  let held = state.ips.get(canonical);
  if (!held) state.ips.set(canonical, (held = { sharingKey: user.sharingKey, backendKey: user.backendKey, users: new Map() }));
  // The last user to join sets the key, as MetalLB does; all users agree on it anyway.
  held.sharingKey = user.sharingKey;
  held.backendKey = user.backendKey;
  held.users.set(user.key, [...user.ports]);
  state.byService.set(user.key, canonical);
  return undefined;
}

/**
 * Rebuilds the state from addresses services hold, in the given order: a claim
 * that conflicts with earlier ones (or lies outside the range) is rejected and
 * its service will have to move.
 */
export function rebuildState(range: IPRange, claims: Claim[]): { state: PoolState; rejected: { claim: Claim; reason: string }[] } {
  const state = emptyState(range);
  const rejected: { claim: Claim; reason: string }[] = [];
  for (const claim of claims) {
    const err = assign(state, claim.ip, claim);
    if (err) rejected.push({ claim, reason: err });
  }
  return { state, rejected };
}

/**
 * Gives `user` an address: the requested one if it may hold it (no fallback, as
 * MetalLB: a user who asks for an address gets it or an error), else the lowest
 * address that is free or shareable with it.
 */
export function allocate(state: PoolState, user: PoolUser, opts: { requestedIP?: string; families?: IPFamily[] } = {}): AllocateResult {
  const families = opts.families?.length ? opts.families : [state.range.family];
  if (opts.requestedIP) {
    const requested = canonicalIP(opts.requestedIP);
    if (!requested) return { error: `invalid spec.loadBalancerIP "${opts.requestedIP}"` };
    const family = familyOfIPBytes(parseIPSloppy(requested)!);
    if (!families.includes(family)) return { error: `requested loadBalancer IP(s) ["${requested}"] does not match the ipFamily of the service` };
    const err = assign(state, requested, user);
    return err ? { error: err } : { ip: requested };
  }
  const current = state.byService.get(user.key);
  if (current) {
    const err = assign(state, current, user);
    return err ? { error: err } : { ip: current };
  }
  if (!families.includes(state.range.family)) return { error: 'no available IPs' };
  // Walk up from the first address: each step past a held address costs one
  // holder, so this ends within (holders + 1) steps however large the range.
  for (let n = state.range.first; n <= state.range.last; n++) {
    const ip = formatIP(bigIntToIP(n));
    if (!assign(state, ip, user)) return { ip };
    if (!state.ips.has(ip)) break; // free yet refused: cannot happen, but never loop on it
  }
  return { error: 'no available IPs' };
}
