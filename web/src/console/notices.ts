// Proactive notices in the console: the settings as the API holds them,
// the form of one notice and back, and the log's lines.
import type { components } from '../api/types/openapi';

type S = components['schemas'];
export type NoticeSettings = S['NoticeSettingsView'];
export type NoticeRule = S['NoticeRule'];
export type NoticeSend = S['NoticeSendView'];
export type NoticeStats = S['NoticeStatsView'];

/** Channels a notice can go on, in the form's order. */
export const NOTICE_CHANNELS = ['whatsapp', 'email', 'sms', 'messenger', 'instagram', 'telegram'] as const;

/** The form of one notice: its texts as `lang: text` lines, the template's languages as `lang=code`. */
export type NoticeForm = {
  enabled: boolean;
  channels: string[];
  delayMinutes: string;
  texts: { lang: string; text: string }[];
  template: string;
  templateLanguages: string;
  templateBody: string;
  countries: string;
  /** The least order value, as a decimal in the order's currency; empty: any. */
  minOrder: string;
  firstOrderOnly: boolean;
  /** Only buyers with one of these tags, comma-separated; empty: all. */
  tags: string;
};

export function noticeForm(r: NoticeRule): NoticeForm {
  const t = r.whatsapp_template;
  return {
    enabled: r.enabled,
    channels: [...r.channels],
    delayMinutes: r.delay_minutes ? String(r.delay_minutes) : '',
    texts: Object.entries(r.texts ?? {}).map(([lang, text]) => ({ lang, text })),
    template: t?.name ?? '',
    templateLanguages: t ? Object.entries(t.languages).map(([l, c]) => `${l}=${c}`).join(', ') : '',
    templateBody: t?.body?.join(' | ') ?? '',
    countries: (r.countries ?? []).join(', '),
    minOrder: r.min_order_total_minor != null ? (r.min_order_total_minor / 100).toFixed(2) : '',
    firstOrderOnly: r.first_order_only ?? false,
    tags: (r.contact_tags ?? []).join(', '),
  };
}

const list = (s: string, sep: RegExp = /[,\s]+/) => s.split(sep).map((x) => x.trim()).filter(Boolean);

/** The rule for `f`; errors name what is wrong. */
export function noticeRule(kind: NoticeRule['kind'], f: NoticeForm): NoticeRule {
  const texts = textsOf(f.texts);
  const rule: NoticeRule = {
    kind,
    enabled: f.enabled,
    channels: f.channels as NoticeRule['channels'],
    delay_minutes: Number(f.delayMinutes) || 0,
    texts,
    countries: list(f.countries).map((c) => c.toUpperCase()),
    first_order_only: f.firstOrderOnly,
    contact_tags: list(f.tags, /,/),
  };
  if (f.minOrder.trim()) {
    const n = Number(f.minOrder.replace(',', '.'));
    if (!Number.isFinite(n) || n < 0) throw new Error(`“${f.minOrder}” is not an amount`);
    rule.min_order_total_minor = Math.round(n * 100);
  }
  const template = templateOf(f.template, f.templateLanguages, f.templateBody);
  if (template) rule.whatsapp_template = template;
  return rule;
}

/** A WhatsApp template from its form fields (`null` when unnamed); errors name what is wrong. */
export function templateOf(name: string, languages: string, body: string): NoticeRule['whatsapp_template'] | null {
  if (!name.trim()) return null;
  const codes: Record<string, string> = {};
  for (const pair of list(languages, /,/)) {
    const [lang, code] = pair.split('=').map((x) => x.trim());
    if (!lang || !code) throw new Error(`“${pair}” is not language=code`);
    codes[lang] = code;
  }
  return { name: name.trim(), languages: codes, body: list(body, /\|/) };
}

/** Texts per language from the form's lines, empty ones left out. */
export function textsOf(lines: { lang: string; text: string }[]): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const { lang, text } of lines) if (lang.trim() && text.trim()) texts[lang.trim()] = text.trim();
  return texts;
}

/** The log's state with its reason, as one key and values for the catalog. */
export function sendState(n: NoticeSend): [string, Record<string, string>] {
  if (n.state === 'skipped') return ['notices.skipped', { reason: n.reason ?? '' }];
  if (n.state === 'failed') return ['notices.failed', { reason: n.reason ?? '' }];
  if (n.state === 'scheduled') return ['notices.scheduled', { at: n.scheduled_at }];
  return [`notices.${n.state}`, {}];
}

/** The last 30 days of a notice in figures for the catalog (`null` when it never ran). */
export function statsLine(s: NoticeStats): Record<string, number> | null {
  const skipped = Object.values(s.skipped ?? {}).reduce((a, b) => a + b, 0);
  const failed = Object.values(s.failed ?? {}).reduce((a, b) => a + b, 0);
  if (!s.sent && !skipped && !failed && !s.scheduled) return null;
  return { sent: s.sent, delivered: s.delivered, read: s.read, replied: s.replied, skipped, failed };
}
