import { describe, expect, it } from 'vitest';
import { emailConfig, emailForm } from './email';
import type { InboxConfig } from '../api/types';

const stored = {
  bot_enabled: true,
  email: {
    address: 'support@shop.example', from_name: 'Shop', folders: ['INBOX', 'Amazon'], amazon: true,
    imap: { host: 'imap.shop.example', port: 993, security: 'tls', username: 'support', password_set: true, ca_pem: 'PEM' },
    smtp: { host: 'smtp.shop.example', port: 587, security: 'starttls', username: 'support', password_set: true },
  },
} as unknown as InboxConfig;

describe('e-mail inbox form', () => {
  it('shows stored passwords as set and sends none back unless typed', () => {
    const f = emailForm(stored);
    expect(f.imap.passwordSet).toBe(true);
    expect(f.imap.password).toBe('');
    expect(f.folders).toBe('INBOX, Amazon');
    const out = emailConfig(f, stored) as unknown as { bot_enabled: boolean; email: Record<string, Record<string, unknown>> };
    expect(out.bot_enabled).toBe(true);
    expect(out.email.imap).toEqual({ host: 'imap.shop.example', port: 993, security: 'tls', username: 'support', ca_pem: 'PEM' });
    expect('password' in out.email.smtp).toBe(false);
    expect(out.email.folders).toEqual(['INBOX', 'Amazon']);
    expect(out.email.amazon).toBe(true);
  });
  it('sends a typed password and leaves out servers that are off', () => {
    const f = emailForm(null);
    f.address = 'a@b.example';
    f.imap.on = true;
    f.imap.host = 'imap.b.example';
    f.imap.username = 'a';
    f.imap.password = 'pw';
    const out = emailConfig(f) as unknown as { email: Record<string, Record<string, unknown>> };
    expect(out.email.imap.password).toBe('pw');
    expect(out.email.smtp).toBeUndefined();
    expect(out.email.folders).toEqual(['INBOX']);
  });
});
