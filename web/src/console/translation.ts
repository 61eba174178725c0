// Translation in the console: which translation of a message an agent
// reads, whether a message is worth translating, and the reply body that
// sends a checked translation with the agent's own words. Pure functions,
// tested in translation.test.ts.

/** A message's text in one language, as the API shows it. */
export interface TranslationLike {
  language: string;
  text: string;
  source_language?: string | null;
  provider: string;
}

/** The parts of a message these functions read. */
export interface MessageLike {
  kind: string;
  text?: string | null;
  meta?: { translations?: TranslationLike[] | null; written_as?: TranslationLike | null } | null;
}

/** The primary tag of a language (`es-MX` → `es`). */
export function primary(lang: string | null | undefined): string {
  return (lang ?? '').trim().split(/[-_]/)[0].toLowerCase();
}

/** The translation of `m` an agent speaking `lang` reads, if it differs from the text. */
export function translationFor(m: MessageLike, lang: string): TranslationLike | null {
  const want = primary(lang);
  const t = m.meta?.translations?.find((x) => primary(x.language) === want);
  return t && t.text !== m.text ? t : null;
}

/**
 * Whether to offer translating `m` for an agent speaking `agentLangs`: a
 * buyer's message with text, not yet translated into the first of them,
 * unless the conversation's language is one the agent speaks.
 */
export function offerTranslation(m: MessageLike, agentLangs: string[], conversationLang?: string | null): boolean {
  if (m.kind !== 'incoming' || !m.text?.trim() || agentLangs.length === 0) return false;
  const mine = agentLangs.map(primary);
  if (conversationLang && mine.includes(primary(conversationLang))) return false;
  return !m.meta?.translations?.some((x) => primary(x.language) === mine[0]);
}

/** A checked translation of the draft. */
export interface Draft {
  /** What goes out (the agent may have edited it). */
  text: string;
  /** Its language. */
  language: string;
  /** What the agent wrote it from. */
  original: string;
  /** The agent's language. */
  source: string;
}

/** The body of a reply: the translation with the agent's words, or the text as typed. */
export function replyContent(typed: string, draft: Draft | null): { content?: string; written_as?: { language: string; text: string } } {
  if (draft && draft.original === typed && draft.text.trim() && draft.language !== draft.source) {
    return { content: draft.text, written_as: { language: draft.source, text: draft.original } };
  }
  return { content: typed.trim() ? typed : undefined };
}
