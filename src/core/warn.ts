/** Process warnings for errors Oncekey cannot hand to the caller. */

/** `Name: message` of an error, or its string form. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A process warning with `code`; console.warn where there is no process. */
export function emitWarning(message: string, code: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (warning: string, options: object) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { code });
  else console.warn(message);
}
