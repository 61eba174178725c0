// E-mail inbox settings as the console's form holds them, and back.
// Stored passwords are never sent to the console (`password_set` says one
// exists); a password is sent only when typed, so the stored one is kept.
import type { InboxConfig } from '../api/types';

export type Security = 'tls' | 'starttls' | 'plain';
export type ServerForm = { on: boolean; host: string; port: number; security: Security; username: string; password: string; passwordSet: boolean };
export type EmailForm = {
  address: string;
  fromName: string;
  folders: string;
  imap: ServerForm;
  smtp: ServerForm;
  caPem: string;
  amazon: boolean;
};

type Server = { host?: string; port?: number; security?: Security; username?: string | null; password_set?: boolean; ca_pem?: string | null };
type Stored = { address?: string; from_name?: string | null; folders?: string[]; imap?: Server | null; smtp?: Server | null; amazon?: boolean };

function server(s: Server | null | undefined, port: number, security: Security): ServerForm {
  return {
    on: !!s,
    host: s?.host ?? '',
    port: s?.port ?? port,
    security: s?.security ?? security,
    username: s?.username ?? '',
    password: '',
    passwordSet: !!s?.password_set,
  };
}

/** The form for an inbox's settings (empty ones for a new inbox). */
export function emailForm(config?: InboxConfig | null): EmailForm {
  const e = ((config as Record<string, unknown> | undefined)?.email ?? {}) as Stored;
  return {
    address: e.address ?? '',
    fromName: e.from_name ?? '',
    folders: (e.folders ?? ['INBOX']).join(', '),
    imap: server(e.imap, 993, 'tls'),
    smtp: server(e.smtp, 587, 'starttls'),
    caPem: e.imap?.ca_pem ?? e.smtp?.ca_pem ?? '',
    amazon: !!e.amazon,
  };
}

function serverOut(s: ServerForm, caPem: string, loginRequired: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { host: s.host.trim(), port: Number(s.port), security: s.security };
  const user = s.username.trim();
  if (user || loginRequired) out.username = user;
  // Left empty: the stored password stays.
  if (s.password) out.password = s.password;
  if (caPem.trim()) out.ca_pem = caPem.trim();
  return out;
}

/** The inbox settings for the form, keeping `base`'s other settings. */
export function emailConfig(f: EmailForm, base: InboxConfig = {} as InboxConfig): InboxConfig {
  const email: Record<string, unknown> = {
    address: f.address.trim(),
    folders: f.folders.split(',').map((x) => x.trim()).filter(Boolean),
    amazon: f.amazon,
  };
  if (f.fromName.trim()) email.from_name = f.fromName.trim();
  if (f.imap.on) email.imap = serverOut(f.imap, f.caPem, true);
  if (f.smtp.on) email.smtp = serverOut(f.smtp, f.caPem, false);
  return { ...base, email } as InboxConfig;
}
