// The one translation layer of the console and the widget: dictionaries of
// keyed strings per locale, `{name}` placeholders, an English fallback.

export type Dict = Record<string, string>;
export type Catalog = Record<string, Dict>;

/** `{name}` is replaced by the value; `{name|one|other}` by `one` when the
 * value is 1 and by `other` otherwise ("{days} {days|day|days}"). */
export function translate(catalog: Catalog, locale: string, key: string, vars: Record<string, string | number> = {}): string {
  const text = catalog[locale]?.[key] ?? catalog.en?.[key] ?? key;
  return text
    .replace(/\{(\w+)\|([^|{}]*)\|([^|{}]*)\}/g, (m, name: string, one: string, other: string) =>
      name in vars ? (Number(vars[name]) === 1 ? one : other) : m,
    )
    .replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/** The first supported locale among the browser's, by full tag then primary subtag. */
export function pickLocale(preferred: readonly string[], supported: readonly string[], fallback = 'en'): string {
  for (const p of preferred) {
    const lower = p.toLowerCase();
    const exact = supported.find((s) => s.toLowerCase() === lower);
    if (exact) return exact;
    const primary = supported.find((s) => s.toLowerCase() === lower.split('-')[0]);
    if (primary) return primary;
  }
  return fallback;
}

const RTL = new Set(['ar', 'fa', 'he', 'ur', 'ps', 'sd', 'ug', 'yi', 'dv']);

/** Whether a language is written right to left. */
export function isRtl(lang: string | null | undefined): boolean {
  return !!lang && RTL.has(lang.toLowerCase().split('-')[0]);
}
