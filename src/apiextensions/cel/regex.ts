// RE2 patterns (what CEL's matches() and Kubernetes' find/findAll take)
// run as ECMAScript regexes: leading flag groups ((?i), (?s), (?m), also
// after ^), \A,
// \z, (?P<name>...) and \Q...\E are rewritten; RE2 constructs without an
// ECMAScript counterpart fail to compile, as invalid patterns do.
import { CelError } from './values.js';

const cache = new Map<string, RegExp | string>();

/** The pattern compiled (unanchored, as RE2's MatchString), or the error it fails with. */
export function tryCompileRegex(pattern: string): RegExp | string {
  let re = cache.get(pattern);
  if (re !== undefined) return re;
  try {
    let src = pattern;
    let flags = 'u';
    // Flags set at the start (after anchors only) apply to the whole pattern.
    const lead = /^((?:\^|\\A)*)\(\?([imsU]+)\)/.exec(src);
    if (lead) {
      src = lead[1] + src.slice(lead[0].length);
      for (const f of lead[2]) if (f !== 'U' && !flags.includes(f)) flags += f;
    }
    src = src
      .replace(/\\Q(.*?)(\\E|$)/g, (_m, lit: string) => lit.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
      .replace(/\(\?P</g, '(?<')
      .replace(/\\A/g, '^')
      .replace(/\\z/g, '(?![\\s\\S])');
    if (/\(\?[imsU-]+[:)]/.test(src)) throw new Error('invalid or unsupported Perl syntax: `(?` flags inside the pattern');
    re = new RegExp(src, flags);
  } catch (e) {
    re = (e as Error).message;
  }
  cache.set(pattern, re);
  return re;
}

export function compileRegex(pattern: string): RegExp {
  const re = tryCompileRegex(pattern);
  if (typeof re === 'string') throw new CelError(`given regex is invalid: ${re}`);
  return re;
}
