// Messenger, Instagram, Telegram and SMS inboxes in the console: each
// channel's settings as a list of fields, the form and back, the webhook
// URL to give the platform, a connection check's result in one line, the
// Messenger/Instagram reply window (24 hours, or 7 days for people with
// Meta's human agent tag), and an SMS's segment count as the composer
// shows it. Stored secrets are never sent to the console (`<key>_set`
// says one exists); a secret is sent only when typed, so the stored one
// is kept.
import type { InboxConfig } from '../api/types';
import type { ReplyWindow } from './whatsapp';

export type ChannelKind = 'messenger' | 'instagram' | 'telegram' | 'sms';

export const CHANNELS: readonly ChannelKind[] = ['messenger', 'instagram', 'telegram', 'sms'];

export function isChannelKind(c: string): c is ChannelKind {
  return (CHANNELS as readonly string[]).includes(c);
}

export type Field = {
  /** The settings key (`page_id`). */
  key: string;
  /** Never shown back; kept when left empty. */
  secret?: boolean;
  /** Required to create the inbox. */
  required?: boolean;
  /** An HTML `pattern`. */
  pattern?: string;
  /** Offer a generated random value (tokens the seller makes up). */
  generate?: boolean;
  /** A yes/no setting. */
  flag?: boolean;
  /** Shown as the placeholder. */
  placeholder?: string;
};

const META: Field[] = [
  { key: 'page_id', required: true, pattern: '[0-9]+' },
  { key: 'access_token', secret: true, required: true },
  { key: 'app_secret', secret: true, required: true },
  { key: 'verify_token', required: true, generate: true, pattern: '[A-Za-z0-9_\\-]{16,256}' },
  { key: 'app_id', pattern: '[0-9]+' },
  { key: 'api_base', placeholder: 'https://graph.facebook.com/v21.0' },
  { key: 'human_agent', flag: true },
];

/** The fields of each channel's settings (`config[channel]`). */
export const FIELDS: Record<ChannelKind, Field[]> = {
  messenger: META,
  instagram: [META[0], { key: 'instagram_account_id', required: true, pattern: '[0-9]+' }, ...META.slice(1)],
  telegram: [
    { key: 'bot_token', secret: true, required: true, placeholder: '123456789:AA…' },
    { key: 'secret_token', secret: true, required: true, generate: true, pattern: '[A-Za-z0-9_\\-]{16,256}' },
    { key: 'api_base', placeholder: 'https://api.telegram.org' },
  ],
  sms: [
    { key: 'account_sid', required: true, placeholder: 'AC…' },
    { key: 'auth_token', secret: true, required: true },
    { key: 'from_number', required: true, placeholder: '+15005550006', pattern: '\\+[0-9]{6,15}' },
    { key: 'webhook_url', placeholder: 'https://…' },
    { key: 'api_base', placeholder: 'https://api.twilio.com' },
  ],
};

/** The form: every field's text (flags as `"true"`/`""`), and which secrets are stored. */
export type ChannelForm = { values: Record<string, string>; set: Record<string, boolean> };

/** The form for an inbox's settings (empty ones for a new inbox). */
export function channelForm(channel: ChannelKind, config?: InboxConfig | null): ChannelForm {
  const stored = ((config as Record<string, unknown> | undefined)?.[channel] ?? {}) as Record<string, unknown>;
  const values: Record<string, string> = {};
  const set: Record<string, boolean> = {};
  for (const f of FIELDS[channel]) {
    if (f.secret) {
      values[f.key] = '';
      set[f.key] = stored[`${f.key}_set`] === true;
    } else if (f.flag) {
      values[f.key] = stored[f.key] === true ? 'true' : '';
    } else {
      const v = stored[f.key];
      values[f.key] = v === undefined || v === null ? '' : String(v);
    }
  }
  return { values, set };
}

/** The inbox settings for the form, keeping `base`'s other settings. */
export function channelConfig(channel: ChannelKind, f: ChannelForm, base: InboxConfig = {} as InboxConfig): InboxConfig {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS[channel]) {
    const v = (f.values[field.key] ?? '').trim();
    if (field.flag) out[field.key] = v === 'true';
    // Left empty: a stored secret stays, an optional setting is unset.
    else if (v) out[field.key] = v;
  }
  return { ...base, [channel]: out } as InboxConfig;
}

/** Fields still missing before the form can be sent (secrets already stored count). */
export function missing(channel: ChannelKind, f: ChannelForm): string[] {
  return FIELDS[channel]
    .filter((x) => x.required && !(f.values[x.key] ?? '').trim() && !(x.secret && f.set[x.key]))
    .map((x) => x.key);
}

/** Where the platform posts the inbox's events (Telegram's is set by the check). */
export function channelWebhook(origin: string, channel: ChannelKind, inboxId: number): string {
  return `${origin.replace(/\/+$/, '')}/webhooks/${channel}/${inboxId}`;
}

/** A fresh random token: 32 characters the platforms accept. */
export function newToken(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  return Array.from(random(16), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** What `POST /inboxes/{id}/check` found, whichever channel. */
export type CheckPart = {
  ok: boolean;
  error?: string | null;
  name?: string | null;
  username?: string | null;
  account_name?: string | null;
  webhook_url?: string | null;
  subscribed?: boolean;
};

/** The check's part for `channel` (`meta` for Messenger and Instagram). */
export function checkPart(channel: ChannelKind, r: Record<string, unknown>): CheckPart | null {
  const key = channel === 'messenger' || channel === 'instagram' ? 'meta' : channel;
  return (r[key] as CheckPart | undefined) ?? null;
}

/** What the check proved, as `[label key, value]` pairs for the result line. */
export function checkFacts(c: CheckPart): [string, string][] {
  const facts: [string, string][] = [];
  if (c.name) facts.push(['ch.page', c.name]);
  if (c.username) facts.push(['ch.bot', `@${c.username}`]);
  if (c.account_name) facts.push(['ch.account', c.account_name]);
  if (c.subscribed) facts.push(['ch.subscribed', '✓']);
  if (c.webhook_url) facts.push(['ch.webhook_set', c.webhook_url]);
  return facts;
}

const HOUR = 3600_000;

/**
 * The Messenger/Instagram reply window for someone replying now: 24 hours
 * after the buyer's last message, or 7 days for people when the page has
 * the human agent permission. `tagged` says the longer window is in use.
 */
export function metaWindow(
  lastBuyerMessageAt: string | null | undefined,
  now: number,
  humanAgent: boolean,
): ReplyWindow & { tagged: boolean } {
  const at = lastBuyerMessageAt ? Date.parse(lastBuyerMessageAt) : NaN;
  if (!Number.isFinite(at)) return { open: false, closedAt: null, tagged: false };
  const standard = at + 24 * HOUR;
  if (standard > now) return { open: true, leftMs: standard - now, closesAt: standard, tagged: false };
  const tagged = at + 7 * 24 * HOUR;
  if (humanAgent && tagged > now) return { open: true, leftMs: tagged - now, closesAt: tagged, tagged: true };
  return { open: false, closedAt: humanAgent ? tagged : standard, tagged: false };
}

/** The server's segment count of an SMS. */
export type Segments = { encoding: string; segments: number; units: number; per_segment: number; remaining: number };

/** The composer's line for an SMS: `2 SMS · UCS-2 · 45 left`. */
export function segmentLabel(s: Segments, t: (key: string, vars?: Record<string, string | number>) => string): string {
  const encoding = s.encoding === 'ucs2' ? 'UCS-2' : 'GSM-7';
  return t('ch.segments', { n: s.segments, encoding, left: s.remaining });
}
