// WhatsApp inboxes in the console: the settings form and back, the
// 24-hour reply window, and templates — their parameter form, the request
// that sends one, and the text the buyer will read.
// Stored secrets are never sent to the console (`access_token_set` and
// `app_secret_set` say one exists); a secret is sent only when typed, so
// the stored one is kept.
import type { InboxConfig } from '../api/types';
import type { components } from '../api/types/openapi';
import type { Vars } from '../lib/canned';

type S = components['schemas'];

// ---------------------------------------------------------------- settings

export type WhatsAppForm = {
  phoneNumberId: string;
  businessAccountId: string;
  accessToken: string;
  accessTokenSet: boolean;
  appSecret: string;
  appSecretSet: boolean;
  verifyToken: string;
  apiBase: string;
  /** Empty: the server's default. */
  ratePerSecond: string;
};

type Stored = {
  phone_number_id?: string | number;
  business_account_id?: string | number;
  access_token_set?: boolean;
  app_secret_set?: boolean;
  verify_token?: string;
  api_base?: string | null;
  rate_per_second?: number | null;
};

/** The form for an inbox's settings (empty ones for a new inbox). */
export function whatsappForm(config?: InboxConfig | null): WhatsAppForm {
  const w = ((config as Record<string, unknown> | undefined)?.whatsapp ?? {}) as Stored;
  return {
    phoneNumberId: w.phone_number_id === undefined ? '' : String(w.phone_number_id),
    businessAccountId: w.business_account_id === undefined ? '' : String(w.business_account_id),
    accessToken: '',
    accessTokenSet: !!w.access_token_set,
    appSecret: '',
    appSecretSet: !!w.app_secret_set,
    verifyToken: w.verify_token ?? '',
    apiBase: w.api_base ?? '',
    ratePerSecond: w.rate_per_second ? String(w.rate_per_second) : '',
  };
}

/** The inbox settings for the form, keeping `base`'s other settings. */
export function whatsappConfig(f: WhatsAppForm, base: InboxConfig = {} as InboxConfig): InboxConfig {
  const whatsapp: Record<string, unknown> = {
    phone_number_id: f.phoneNumberId.trim(),
    business_account_id: f.businessAccountId.trim(),
    verify_token: f.verifyToken.trim(),
  };
  // Left empty: the stored secret stays.
  if (f.accessToken.trim()) whatsapp.access_token = f.accessToken.trim();
  if (f.appSecret.trim()) whatsapp.app_secret = f.appSecret.trim();
  if (f.apiBase.trim()) whatsapp.api_base = f.apiBase.trim();
  const rate = Number(f.ratePerSecond);
  if (f.ratePerSecond.trim() && Number.isInteger(rate) && rate > 0) whatsapp.rate_per_second = rate;
  return { ...base, whatsapp } as InboxConfig;
}

/** Where Meta posts the inbox's events (to paste into the app's webhook settings). */
export function webhookUrl(origin: string, inboxId: number): string {
  return `${origin.replace(/\/+$/, '')}/webhooks/whatsapp/${inboxId}`;
}

/** A fresh verify token: 32 hex digits. */
export function newVerifyToken(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  return Array.from(random(16), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** What `POST /inboxes/{id}/check` found for a WhatsApp inbox. */
export type WhatsAppCheck = S['WhatsAppCheckView'];

// ---------------------------------------------------------------- the 24-hour window

/** How long after the buyer's last message free-form replies are allowed. */
export const WINDOW_MS = 24 * 60 * 60 * 1000;

export type ReplyWindow =
  | { open: true; leftMs: number; closesAt: number }
  | { open: false; closedAt: number | null };

/** The reply window at `now`, from the buyer's last message (none: closed, never opened). */
export function replyWindow(lastBuyerMessageAt: string | null | undefined, now: number): ReplyWindow {
  const at = lastBuyerMessageAt ? Date.parse(lastBuyerMessageAt) : NaN;
  if (!Number.isFinite(at)) return { open: false, closedAt: null };
  const closesAt = at + WINDOW_MS;
  return closesAt > now ? { open: true, leftMs: closesAt - now, closesAt } : { open: false, closedAt: closesAt };
}

/**
 * When the buyer last wrote: the conversation's record, or a later incoming
 * message already shown (live events may bring the message first).
 */
export function lastBuyerAt(
  recorded: string | null | undefined,
  messages: readonly { kind: string; sent_at: string }[] = [],
): string | null {
  let best = recorded ?? null;
  let bestMs = best ? Date.parse(best) : -Infinity;
  for (const m of messages) {
    if (m.kind !== 'incoming') continue;
    const at = Date.parse(m.sent_at);
    if (at > bestMs) {
      best = m.sent_at;
      bestMs = at;
    }
  }
  return best;
}

/** Time left as whole hours and minutes, rounded up so "0 min" never shows while open. */
export function hoursMinutes(ms: number): { h: number; m: number } {
  const minutes = Math.max(0, Math.ceil(ms / 60000));
  return { h: Math.floor(minutes / 60), m: minutes % 60 };
}

// ---------------------------------------------------------------- templates

/** A message template of the inbox's WhatsApp Business Account. */
export type WaTemplate = S['WhatsAppTemplateView'];

/** The values an agent typed for a template's parameters. */
export type TemplateDraft = {
  header: string[];
  body: string[];
  buttons: { index: number; sub_type: string; value: string }[];
};

/** What `POST /conversations/{id}/messages` takes to send a template. */
export type TemplateRequest = { template: Required<S['TemplateRequest']> };

/** Variables the server fills when it sends a template. */
export const TEMPLATE_VARIABLES = ['{{contact.name}}', '{{order.number}}', '{{order.tracking_url}}'] as const;

/** Templates an agent may send: approved ones, by name then language. */
export function sendable(list: readonly WaTemplate[]): WaTemplate[] {
  return list
    .filter((t) => t.status.toUpperCase() === 'APPROVED')
    .sort((a, b) => a.name.localeCompare(b.name) || a.language.localeCompare(b.language));
}

/** An empty draft with one field per parameter of `t`. */
export function emptyDraft(t: WaTemplate): TemplateDraft {
  return {
    header: Array.from({ length: t.header_parameters }, () => ''),
    body: Array.from({ length: t.body_parameters }, () => ''),
    buttons: t.button_parameters.map((b) => ({ index: b.index, sub_type: b.sub_type, value: '' })),
  };
}

/** True when every parameter has a value (Meta refuses empty ones). */
export function draftComplete(d: TemplateDraft): boolean {
  return [...d.header, ...d.body, ...d.buttons.map((b) => b.value)].every((v) => v.trim() !== '');
}

/** The request body that sends `t` with the draft's values. */
export function templateRequest(t: WaTemplate, d: TemplateDraft): TemplateRequest {
  const trim = (l: string[]) => l.map((v) => v.trim());
  return {
    template: {
      name: t.name,
      language: t.language,
      header: trim(d.header),
      body: trim(d.body),
      buttons: d.buttons.map((b) => ({ index: b.index, sub_type: b.sub_type, value: b.value.trim() })),
    },
  };
}

/**
 * Puts values into a template text's `{{1}}`, `{{2}}`… placeholders. A
 * value's own `{{contact.name}}`-style variables are filled from `vars`
 * when known; otherwise they stay visible (the server fills them).
 * Missing values keep their placeholder.
 */
export function fill(text: string, values: readonly string[], vars: Vars = {}): string {
  return text.replace(/\{\{\s*(\d+)\s*\}\}/g, (m, n: string) => {
    const v = values[Number(n) - 1];
    return v && v.trim() ? fillKnown(v.trim(), vars) : m;
  });
}

/** `{{name}}` variables of `vars` filled; unknown ones kept as written. */
function fillKnown(text: string, vars: Vars): string {
  return text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (m, name: string) => {
    const v = vars[name];
    return v !== undefined && v !== null && String(v).trim() !== '' ? String(v) : m;
  });
}

export type Preview = { header: string; body: string; footer: string; buttons: { text: string; url: string }[] };

/** The template as the buyer will read it, with the draft's values. */
export function preview(t: WaTemplate, d: TemplateDraft, vars: Vars = {}): Preview {
  return {
    header: t.header ? fill(t.header, d.header, vars) : '',
    body: fill(t.body, d.body, vars),
    footer: t.footer ?? '',
    buttons: t.buttons.map((b, i) => {
      const p = d.buttons.find((x) => x.index === i && x.sub_type === 'url');
      return { text: b.text, url: b.url ? fill(b.url, p ? [p.value] : [], vars) : '' };
    }),
  };
}

/** The preview as one text, as a template message's `text` reads. */
export function previewText(p: Preview): string {
  return [p.header, p.body, p.footer].filter((s) => s.trim()).join('\n\n');
}

// ---------------------------------------------------------------- template messages

/** The content part of a stored template message. */
export type TemplatePart = S['TemplateMessage'];

/** The template a message was sent from, if it was. */
export function templateOf(m: { parts: readonly unknown[] }): TemplatePart | null {
  for (const p of m.parts as { type?: string; template?: TemplatePart }[]) {
    if (p.type === 'template' && p.template) return p.template;
  }
  return null;
}
