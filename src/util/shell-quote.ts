// Quoting for sh command lines the program writes (exec under script(1),
// the built-in images' small launcher scripts).

/** A string as one single-quoted sh word (left bare when it needs no quoting). */
export function shQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
