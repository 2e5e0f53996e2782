/**
 * The text the engine stores as a record's outcome: a tag, the attempt that produced it, and
 * the payload — `r<attempt>:<codec text>` for a result, `e<attempt>:<JSON>` for an error that
 * `cacheErrors` declared final. The tag keeps a cached error from ever being mistaken for a
 * result, whatever the codec writes; new tags can be added without breaking stored records.
 */
import type { StoredError } from '../core/errors/replayed-error.js';

export type Outcome =
  | { readonly kind: 'result'; readonly attempt: number; readonly text: string }
  | { readonly kind: 'error'; readonly attempt: number; readonly error: StoredError };

export function encodeResult(attempt: number, text: string): string {
  return `r${attempt}:${text}`;
}

/** Keeps the error's name, message and a string or number `code`; never the stack. */
export function encodeError(attempt: number, error: unknown): string {
  return `e${attempt}:${JSON.stringify(toStoredError(error))}`;
}

export function decodeOutcome(stored: string): Outcome {
  const match = /^([re])(\d+):/.exec(stored);
  if (match === null) throw new Error(`stored outcome is not in Oncekey's format: ${JSON.stringify(stored.slice(0, 40))}`);
  const attempt = Number(match[2]);
  const payload = stored.slice(match[0].length);
  if (match[1] === 'r') return { kind: 'result', attempt, text: payload };
  return { kind: 'error', attempt, error: JSON.parse(payload) as StoredError };
}

export function toStoredError(error: unknown): StoredError {
  if (error === null || typeof error !== 'object') return { name: 'Error', message: String(error) };
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
  const stored: { name: string; message: string; code?: string | number } = {
    name: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : String(message ?? ''),
  };
  if (typeof code === 'string' || (typeof code === 'number' && Number.isFinite(code))) stored.code = code;
  return stored;
}
