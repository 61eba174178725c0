// Pure list logic of the console (unit-tested): which conversations a
// filter shows and in what order.
import type { Conversation } from '../api/types';

export interface Filter {
  view: 'mine' | 'unassigned' | 'all';
  status: string;
  inbox_id?: number | null;
  team_id?: number | null;
  tag?: string | null;
}

export type Sort = 'activity' | 'waiting';

export function matchesFilter(c: Conversation, f: Filter, me: number): boolean {
  if (f.status && f.status !== 'all' && c.status !== f.status) return false;
  if (f.view === 'mine' && c.assignee_id !== me) return false;
  if (f.view === 'unassigned' && c.assignee_id != null) return false;
  if (f.inbox_id && c.inbox_id !== f.inbox_id) return false;
  if (f.team_id && c.team_id !== f.team_id) return false;
  if (f.tag && !c.tags.includes(f.tag)) return false;
  return true;
}

/** Most recent activity first, then higher id (the server's order). */
export function byActivity(a: Conversation, b: Conversation): number {
  return Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at) || b.id - a.id;
}

/** Longest-waiting buyer first; conversations not waiting go last. */
export function byWaiting(a: Conversation, b: Conversation): number {
  const wa = waitingSince(a);
  const wb = waitingSince(b);
  if (wa === null && wb === null) return byActivity(a, b);
  if (wa === null) return 1;
  if (wb === null) return -1;
  return wa - wb;
}

/** When the buyer started waiting for an answer, if they are. */
export function waitingSince(c: Conversation): number | null {
  if (!c.last_buyer_message_at || c.status === 'resolved') return null;
  const buyer = Date.parse(c.last_buyer_message_at);
  const reply = c.first_reply_at ? Date.parse(c.first_reply_at) : null;
  return reply !== null && reply > buyer ? null : buyer;
}

export function upsertSorted(items: Conversation[], c: Conversation): Conversation[] {
  return [c, ...items.filter((x) => x.id !== c.id)].sort(byActivity);
}

export function sorted(items: Conversation[], sort: Sort): Conversation[] {
  return [...items].sort(sort === 'waiting' ? byWaiting : byActivity);
}

/** What the list shows of a message: its text, or what it carries when it
 * has none (a photo, a file, a voice message). */
export function previewOf(m: { text: string; parts: { type: string }[] }): string {
  if (m.text.trim()) return m.text;
  const kinds = m.parts.map((p) => p.type);
  if (kinds.includes('image')) return '📷';
  if (kinds.includes('audio')) return '🎤';
  if (kinds.includes('file')) return '📎';
  return '';
}

/** Whether an update changed a conversation's tags (a conversation not seen
 * before counts when it has any). */
export function tagsChanged(before: Pick<Conversation, 'tags'> | undefined, after: Pick<Conversation, 'tags'>): boolean {
  if (!before) return after.tags.length > 0;
  return before.tags.length !== after.tags.length || before.tags.some((t, i) => after.tags[i] !== t);
}

/** What went wrong, for the agent: a known error code in the console's
 * language (`error.code.*`), else the server's words. */
export function describeError(e: unknown, locale: string, t: (key: string) => string): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && locale !== 'en') {
    const said = t(`error.code.${code}`);
    if (said !== `error.code.${code}`) return said;
  }
  return (e as Error | null)?.message ?? String(e);
}

/** The sites allowed to embed a web chat, one per line (blank lines and
 * spaces dropped). */
export function originLines(text: string): string[] {
  return text.split(/[\s,]+/).map((l) => l.trim().replace(/\/+$/, '')).filter(Boolean);
}
