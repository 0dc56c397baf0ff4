// Service account tokens: the sa.key/sa.pub pair, RS256 JWTs, the bound and
// legacy token issuer, TokenRequest's claim rules, the validator the API
// server authenticates bearer tokens with, and issuer discovery.
export * from './claims.js';
export * from './discovery.js';
export * from './issuer.js';
export * from './jwt.js';
export * from './keys.js';
export * from './lookup.js';
export * from './token-request.js';
export * from './user-info.js';
export * from './validator.js';
