/** URLs in messages and logs. */

/** The URL with its password hidden (also in text that does not parse as a URL). */
export function redact(value: string): string {
  try {
    const url = new URL(value);
    if (url.password === '') return value;
    url.password = '***';
    return url.href;
  } catch {
    // Not a URL, yet it may hold credentials (`scheme://user:password@…`).
    return value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
  }
}
