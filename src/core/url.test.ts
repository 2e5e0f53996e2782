import { describe, expect, it } from 'vitest';
import { redact } from './url.js';

describe('redact', () => {
  it('hides the password of a URL, and only that', () => {
    expect(redact('postgres://u:hunter2@db/app')).toBe('postgres://u:***@db/app');
    expect(redact('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redact('sqlite:x.db')).toBe('sqlite:x.db');
  });

  it('hides a password in text that does not parse as a URL', () => {
    expect(redact('postgres://u:hunter2@db:notaport/app')).toBe('postgres://u:***@db:notaport/app');
  });
});
