// Canned responses: `/shortcut` search in the composer and `{{variables}}`.
// The responses themselves are stored on the server and shared by the
// account's agents (`/api/v1/accounts/{id}/canned_responses`).

export interface Canned {
  short_code: string;
  content: string;
}

/** Short codes the server accepts: 1–64 letters, digits, `-` or `_`. */
export const SHORT_CODE_PATTERN = '[A-Za-z0-9_\\-]{1,64}';

export type Vars = Record<string, string | number | null | undefined>;

/** Variables a sentence reads well without ("Hi {{contact.name}}," → "Hi,"):
 * anonymous buyers have no name. */
const OPTIONAL = ['contact.name', 'contact.full_name'];

const filled = (v: Vars[string]) => v !== undefined && v !== null && v !== '';

/** Replaces `{{contact.name}}`-style variables. An empty name goes with the
 * comma or space before it; other unknown variables stay visible so the
 * agent notices them (and {@link unfilled} refuses to send them). */
export function renderTemplate(content: string, vars: Vars): string {
  let out = content;
  for (const name of OPTIONAL) {
    if (filled(vars[name])) continue;
    const re = new RegExp(`[,，]?[ \\t]*\\{\\{\\s*${name.replace('.', '\\.')}\\s*\\}\\}`, 'g');
    out = out.replace(re, '').replace(/^\s*[,，]\s*/, '');
  }
  return out.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (m, name: string) => {
    const v = vars[name];
    return filled(v) ? String(v) : m;
  });
}

/** The `{{variables}}` still in a reply: it must not go to a buyer like that. */
export function unfilled(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]))];
}

/** The `/query` the caret is in, if the composer text starts a canned-response search there. */
export function slashQuery(text: string, caret: number): string | null {
  const before = text.slice(0, caret);
  const m = /(?:^|\s)\/([\w-]*)$/.exec(before);
  return m ? m[1] : null;
}

/** Canned responses matching a query: short-code prefix first, then anywhere in code or text. */
export function searchCanned(list: readonly Canned[], query: string): Canned[] {
  const q = query.toLowerCase();
  const prefix = list.filter((c) => c.short_code.toLowerCase().startsWith(q));
  const rest = list.filter(
    (c) => !prefix.includes(c) && (c.short_code.toLowerCase().includes(q) || c.content.toLowerCase().includes(q)),
  );
  return [...prefix, ...rest];
}

/** Replaces the `/query` before the caret with `insert`; returns the new text and caret. */
export function applyCanned(text: string, caret: number, insert: string): { text: string; caret: number } {
  const before = text.slice(0, caret);
  const start = before.lastIndexOf('/');
  const head = text.slice(0, start);
  return { text: head + insert + text.slice(caret), caret: head.length + insert.length };
}
