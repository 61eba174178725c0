// The console's translation state: whether the account has a provider
// (asked once per account), and the agent's languages.
import { api } from '../api/client';
import type { Message } from '../api/types';
import { acct, open, session } from './store.svelte';

export const translation = $state({
  /** The account whose status is known, and the status. */
  account: '' as string,
  enabled: false,
  /** Messages being translated. */
  busy: {} as Record<number, boolean>,
});

/** Asks whether translation is set up, once per account. */
export function loadTranslationStatus(): void {
  const a = acct();
  if (!session.profile || translation.account === a) return;
  translation.account = a;
  void api<{ enabled: boolean }>('GET', `${a}/translation/status`).then(
    (r) => (translation.enabled = r.enabled),
    () => (translation.enabled = false),
  );
}

/** The signed-in agent's languages, the first preferred. */
export function agentLanguages(): string[] {
  return session.profile?.user.languages ?? [];
}

/** Translates a message into the agent's language and shows the result. */
export async function translateMessage(conversation: number, m: Message): Promise<void> {
  translation.busy[m.id] = true;
  try {
    const updated = await api<Message>('POST', `${acct()}/conversations/${conversation}/messages/${m.id}/translate`, {});
    open.messages = open.messages.map((x) => (x.id === updated.id ? updated : x));
  } finally {
    delete translation.busy[m.id];
  }
}
