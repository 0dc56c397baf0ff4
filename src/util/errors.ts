// The text of anything thrown, for logs and messages: an Error's message,
// else the value as a string (a rejected promise may carry anything).
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
