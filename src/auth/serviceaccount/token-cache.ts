// A small memory of tokens whose signature has been verified, so a client
// presenting the same token again skips the base64, JSON and RSA work. It
// holds only what never changes for a token (its decoded payload and kind):
// times, audiences and the bound objects are still checked on every use.
// Least recently used entries go first; an entry lapses with its token.
import type { JsonObject } from './jwt.js';

export type TokenKind = 'bound' | 'legacy';

export interface VerifiedToken {
  kind: TokenKind;
  payload: JsonObject;
}

interface Entry extends VerifiedToken {
  /** Milliseconds since the epoch after which the token can no longer validate. */
  lapsesAt: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(token: string, nowMs: number): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    if (entry.lapsesAt < nowMs) return undefined;
    this.entries.set(token, entry);
    return entry;
  }

  set(token: string, verified: VerifiedToken, lapsesAt: number): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(token);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { ...verified, lapsesAt });
  }
}
