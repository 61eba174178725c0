// Canned responses: `/shortcut` search in the composer and `{{variables}}`.

export interface Canned {
  short_code: string;
  content: string;
}

export type Vars = Record<string, string | number | null | undefined>;

/** Replaces `{{contact.name}}`-style variables; unknown ones stay visible so the agent notices them. */
export function renderTemplate(content: string, vars: Vars): string {
  return content.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (m, name: string) => {
    const v = vars[name];
    return v === undefined || v === null || v === '' ? m : String(v);
  });
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

export const DEFAULT_CANNED: Canned[] = [
  { short_code: 'hello', content: 'Hi {{contact.name}}, thanks for reaching out! How can I help?' },
  { short_code: 'tracking', content: 'Hi {{contact.name}}, your order {{order.number}} is on its way. Here is the tracking link: {{order.tracking_url}}' },
  { short_code: 'refund', content: 'Your refund has been issued; it usually shows up within 3–5 business days.' },
  { short_code: 'thanks', content: 'Thank you for your patience, {{contact.name}}!' },
];
