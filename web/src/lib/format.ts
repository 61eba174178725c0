// Small display helpers: waiting timers, flags, local times, highlighting.

/** "45s", "12m", "3h", "2d": how long since `since`. */
export function waitingFor(since: string | null | undefined, now: number = Date.now()): string {
  if (!since) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const LANG_COUNTRY: Record<string, string> = {
  en: 'GB', zh: 'CN', ja: 'JP', ko: 'KR', de: 'DE', fr: 'FR', es: 'ES', it: 'IT', pt: 'BR', nl: 'NL',
  ar: 'SA', tr: 'TR', ru: 'RU', pl: 'PL', sv: 'SE', vi: 'VN', th: 'TH', id: 'ID', he: 'IL', hi: 'IN',
};

/** A flag emoji for a country code, or for a language's usual country. */
export function flag(countryOrLang: string | null | undefined): string {
  if (!countryOrLang) return '';
  const parts = countryOrLang.split('-');
  let cc = parts.length > 1 && parts[1].length === 2 ? parts[1] : parts[0];
  if (cc.length === 2 && cc === cc.toLowerCase()) cc = LANG_COUNTRY[cc] ?? cc.toUpperCase();
  cc = cc.toUpperCase();
  if (!/^[A-Z]{2}$/.test(cc)) return '';
  return String.fromCodePoint(...[...cc].map((c) => 0x1f1e6 + c.charCodeAt(0) - 65));
}

/** The local time in an IANA zone, or '' when the zone is unknown. */
export function localTime(tz: string | null | undefined, at: Date = new Date(), locale = 'en'): string {
  if (!tz) return '';
  try {
    return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone: tz }).format(at);
  } catch {
    return '';
  }
}

export interface Piece {
  text: string;
  hit: boolean;
}

/** Splits `text` into pieces marking case-insensitive matches of `query` (for <mark>). */
export function highlight(text: string, query: string): Piece[] {
  const q = query.trim().toLowerCase();
  if (!q) return [{ text, hit: false }];
  const lower = text.toLowerCase();
  const out: Piece[] = [];
  let at = 0;
  for (;;) {
    const i = lower.indexOf(q, at);
    if (i < 0) break;
    if (i > at) out.push({ text: text.slice(at, i), hit: false });
    out.push({ text: text.slice(i, i + q.length), hit: true });
    at = i + q.length;
  }
  if (at < text.length) out.push({ text: text.slice(at), hit: false });
  return out;
}

/** Text cut into plain pieces and http(s) links (a tracking link in a
 * message is clickable); trailing punctuation stays outside the link. */
export function linkify(text: string): { text: string; href?: string }[] {
  const out: { text: string; href?: string }[] = [];
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"'，。！？、）)]+/g)) {
    const url = m[0].replace(/[.,;:!?]+$/, '');
    const at = m.index ?? 0;
    if (at > last) out.push({ text: text.slice(last, at) });
    out.push({ text: url, href: url });
    last = at + url.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
