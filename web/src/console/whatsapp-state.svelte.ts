// The console's WhatsApp state: which conversations are past their
// 24-hour reply window (by the clock, or because the server said so), and
// the templates of each WhatsApp inbox, fetched once and on request.
import { api } from '../api/client';
import type { Conversation } from '../api/types';
import { acct, dir, open, ui } from './store.svelte';
import { lastBuyerAt, replyWindow, type ReplyWindow, type WaTemplate } from './whatsapp';

export const wa = $state({
  /** Conversations the server refused a free-form reply for, with the buyer's last message then. */
  refused: {} as Record<number, string | null>,
  /** What the server said when it refused. */
  refusal: {} as Record<number, string>,
  templates: {} as Record<number, WaTemplate[]>,
});

/** True for a conversation in a WhatsApp inbox. */
export function isWhatsApp(c: Conversation | undefined): boolean {
  return !!c && dir.inboxes.find((i) => i.id === c.inbox_id)?.channel === 'whatsapp';
}

/** When the buyer of `c` last wrote, as far as the console knows. */
function lastOf(c: Conversation): string | null {
  return lastBuyerAt(c.last_buyer_message_at, open.id === c.id ? open.messages : []);
}

/** The reply window of a WhatsApp conversation (null for other channels). */
export function windowOf(c: Conversation | undefined): ReplyWindow | null {
  if (!c || !isWhatsApp(c)) return null;
  const last = lastOf(c);
  // A refusal holds until the buyer writes again.
  if (c.id in wa.refused && wa.refused[c.id] === last) return { open: false, closedAt: ui.now };
  return replyWindow(last, ui.now);
}

/** True when only a template can be sent as a reply. */
export function templateOnly(c: Conversation | undefined, mode: string): boolean {
  return mode === 'reply' && windowOf(c)?.open === false;
}

/** Records that the server refused a free-form reply (`why`, its words): the window is closed. */
export function markWindowClosed(c: Conversation, why = '') {
  wa.refused[c.id] = lastOf(c);
  wa.refusal[c.id] = why;
}

/** The server's words for a refusal that still holds. */
export function refusalOf(c: Conversation): string {
  return c.id in wa.refused && wa.refused[c.id] === lastOf(c) ? wa.refusal[c.id] ?? '' : '';
}

/** The inbox's templates; `sync` fetches them from Meta first. */
export async function loadTemplates(inboxId: number, sync = false): Promise<WaTemplate[]> {
  const path = `${acct()}/inboxes/${inboxId}/whatsapp/templates`;
  const list = await api<WaTemplate[]>(sync ? 'POST' : 'GET', sync ? `${path}/sync` : path);
  wa.templates[inboxId] = list;
  return list;
}
