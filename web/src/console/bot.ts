// Pure logic of the Bot page (unit-tested): editing drafts of intents, FAQ
// entries and shop variables, and saying in words what the bot decided.
import type { BotDocument, BotFaq, BotIntent, Decision, HandoffReason, Slot, TrainResponse } from '../api/types';
import './bot-messages';

export type T = (key: string, vars?: Record<string, string | number>) => string;

export const SLOTS: Slot[] = ['order_number', 'email', 'phone', 'tracking_number'];

/** The textarea's lines: trimmed, blank lines and repeats dropped. */
export function parseLines(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line && !seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  }
  return out;
}

export function joinLines(lines: readonly string[] | undefined): string {
  return (lines ?? []).join('\n');
}

/** An intent as the editor holds it: per language, one textarea of examples and one answer. */
export interface IntentDraft {
  name: string;
  description: string;
  examples: Record<string, string>;
  answers: Record<string, string>;
  requires: Slot | '';
  small_talk: boolean;
}

export function intentDraft(i: BotIntent | null, languages: readonly string[]): IntentDraft {
  const examples: Record<string, string> = {};
  const answers: Record<string, string> = {};
  for (const l of languages) {
    examples[l] = joinLines(i?.examples?.[l]);
    answers[l] = i?.answers?.[l] ?? '';
  }
  return { name: i?.name ?? '', description: i?.description ?? '', examples, answers, requires: i?.requires ?? '', small_talk: !!i?.small_talk };
}

/** The intent to send: languages without examples or answer are left out. */
export function intentFromDraft(d: IntentDraft): BotIntent {
  const examples: Record<string, string[]> = {};
  const answers: Record<string, string> = {};
  for (const [l, text] of Object.entries(d.examples)) {
    const lines = parseLines(text);
    if (lines.length) examples[l] = lines;
  }
  for (const [l, text] of Object.entries(d.answers)) if (text.trim()) answers[l] = text;
  return { name: d.name.trim(), description: d.description.trim(), examples, answers, requires: d.requires || null, small_talk: d.small_talk };
}

/** One row of the intent list: examples per language and whether an answer exists. */
export function intentSummary(i: BotIntent, languages: readonly string[]): { lang: string; examples: number; answer: boolean }[] {
  return languages.map((lang) => ({ lang, examples: i.examples?.[lang]?.length ?? 0, answer: !!i.answers?.[lang]?.trim() }));
}

/** Intents whose name, description, examples or answers contain every word of the query. */
export function filterIntents(intents: readonly BotIntent[], query: string): BotIntent[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [...intents];
  return intents.filter((i) => {
    const hay = [i.name, i.description ?? '', ...Object.values(i.examples ?? {}).flat(), ...Object.values(i.answers ?? {})].join('\n').toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export interface FaqDraft {
  id: string;
  language: string;
  questions: string;
  answer: string;
}

export function faqDraft(f: BotFaq | null, language: string): FaqDraft {
  return { id: f?.id ?? '', language: f?.language ?? language, questions: joinLines(f?.questions), answer: f?.answer ?? '' };
}

export function faqFromDraft(d: FaqDraft): BotFaq {
  return { id: d.id.trim(), language: d.language, questions: parseLines(d.questions), answer: d.answer };
}

export interface ShopRow {
  key: string;
  value: string;
}

export function shopRows(shop: BotDocument['shop']): ShopRow[] {
  return Object.entries(shop ?? {}).map(([key, value]) => ({ key, value }));
}

/** The shop variables from the rows: keys trimmed, empty rows dropped, the last of a repeated key wins. */
export function shopFromRows(rows: readonly ShopRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const key = r.key.trim();
    if (key) out[key] = r.value;
  }
  return out;
}

/** The variables an answer template can use. */
export function templateVariables(shop: BotDocument['shop']): string[] {
  const keys = Object.keys(shop ?? {}).filter((k) => k !== 'name');
  return [
    '{{contact.name}}',
    '{{shop.name}}',
    ...keys.map((k) => `{{shop.${k}}}`),
    '{{order.number}}',
    '{{order.status}}',
    '{{order.tracking_url}}',
    '{{order.estimated_delivery}}',
  ];
}

/** `?version=N`, or nothing for the never-edited default pack. */
export function versionQuery(version: number | null | undefined): string {
  return version === null || version === undefined ? '' : `?version=${version}`;
}

export function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export function describeTraining(r: TrainResponse, t: T): string {
  return t('bot.trained', { intents: r.intents, examples: r.examples, faqs: r.faqs, seconds: (r.millis / 1000).toFixed(1) });
}

export function describeReason(r: HandoffReason, t: T): string {
  switch (r.kind) {
    case 'low_confidence':
      return r.best
        ? t('bot.reason.low_confidence_best', { intent: r.best.name, confidence: percent(r.best.confidence), threshold: percent(r.threshold) })
        : t('bot.reason.low_confidence', { threshold: percent(r.threshold) });
    case 'out_of_scope':
      return r.best ? t('bot.reason.out_of_scope_best', { intent: r.best.name, confidence: percent(r.best.confidence) }) : t('bot.reason.out_of_scope');
    case 'repeated':
      return t('bot.reason.repeated', { intent: r.intent });
    case 'missing_slot':
      return t('bot.reason.missing_slot', { intent: r.intent, slot: t(`bot.slot.${r.slot}`) });
    case 'missing_data':
      return t('bot.reason.missing_data', { intent: r.intent, variable: `{{${r.variable}}}` });
    case 'failed':
      return t('bot.reason.failed', { error: r.error });
    case 'too_many_turns':
      return t('bot.reason.too_many_turns', { turns: r.turns });
    default:
      return t(`bot.reason.${r.kind}`);
  }
}

/** What the bot decided, as a sentence. */
export function describeDecision(d: Decision, t: T): string {
  switch (d.action) {
    case 'answer':
      return t('bot.decision.answer', { intent: d.intent });
    case 'answer_faq':
      return t('bot.decision.answer_faq', { id: d.id });
    case 'ask':
      return t('bot.decision.ask', { intent: d.intent, slot: t(`bot.slot.${d.slot}`) });
    case 'hand_off':
      return t('bot.decision.hand_off', { reason: describeReason(d.reason, t) });
  }
}

/** The language's name in the console's locale ("en" → "English"), or the code. */
export function languageName(code: string, locale: string): string {
  try {
    return new Intl.DisplayNames([locale], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}
