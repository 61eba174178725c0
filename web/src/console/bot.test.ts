import { describe, expect, it } from 'vitest';
import type { BotIntent, Decision } from '../api/types';
import { translate } from '../lib/i18n';
import { messages } from './messages';
import { botMessages } from './bot-messages';
import {
  describeDecision, describeTraining, faqDraft, faqFromDraft, filterIntents, intentDraft, intentFromDraft, intentSummary,
  parseLines, percent, shopFromRows, shopRows, templateVariables, versionQuery,
} from './bot';

const en = (key: string, vars: Record<string, string | number> = {}) => translate(messages, 'en', key, vars);
const zh = (key: string, vars: Record<string, string | number> = {}) => translate(messages, 'zh', key, vars);

const refund: BotIntent = {
  name: 'refund_request', description: 'Buyer wants money back',
  examples: { en: ['I want a refund', 'money back please'], zh: ['我要退款'] }, answers: { en: 'Sure {{contact.name}}' },
  requires: 'order_number', small_talk: false,
};

describe('parseLines', () => {
  it('trims, drops blank lines and repeats, and accepts CRLF', () => {
    expect(parseLines('  hello \n\n hi\r\nhello\n   \n你好')).toEqual(['hello', 'hi', '你好']);
    expect(parseLines('')).toEqual([]);
  });
});

describe('intent drafts', () => {
  it('round-trip an intent through the editor', () => {
    const d = intentDraft(refund, ['en', 'zh', 'de']);
    expect(d.examples).toEqual({ en: 'I want a refund\nmoney back please', zh: '我要退款', de: '' });
    expect(d.answers.de).toBe('');
    expect(d.requires).toBe('order_number');
    expect(intentFromDraft(d)).toEqual(refund);
  });
  it('leaves out empty languages and sends no requirement as null', () => {
    const d = intentDraft(null, ['en', 'zh']);
    d.name = ' gift_wrap ';
    d.examples.en = 'gift wrap please\n\n';
    d.answers.zh = '  ';
    const i = intentFromDraft(d);
    expect(i).toEqual({ name: 'gift_wrap', description: '', examples: { en: ['gift wrap please'] }, answers: {}, requires: null, small_talk: false });
  });
  it('summarises examples and answers per language', () => {
    expect(intentSummary(refund, ['en', 'zh'])).toEqual([
      { lang: 'en', examples: 2, answer: true },
      { lang: 'zh', examples: 1, answer: false },
    ]);
  });
  it('finds intents by every word of the query', () => {
    const greet: BotIntent = { name: 'greeting', examples: { en: ['hello there'] } };
    expect(filterIntents([refund, greet], '').length).toBe(2);
    expect(filterIntents([refund, greet], 'HELLO').map((i) => i.name)).toEqual(['greeting']);
    expect(filterIntents([refund, greet], 'money refund').map((i) => i.name)).toEqual(['refund_request']);
    expect(filterIntents([refund, greet], '退款').map((i) => i.name)).toEqual(['refund_request']);
    expect(filterIntents([refund, greet], 'refund hello')).toEqual([]);
  });
});

describe('FAQ drafts and shop variables', () => {
  it('round-trip a FAQ entry', () => {
    const f = { id: 'opening-hours', language: 'en', questions: ['When are you open?', 'opening hours'], answer: '9 to 5' };
    expect(faqFromDraft(faqDraft(f, 'zh'))).toEqual(f);
    expect(faqDraft(null, 'zh').language).toBe('zh');
  });
  it('turn rows into variables, dropping empty keys', () => {
    const rows = shopRows({ return_days: '30', name: 'Demo' });
    expect(rows).toEqual([{ key: 'return_days', value: '30' }, { key: 'name', value: 'Demo' }]);
    expect(shopFromRows([...rows, { key: '  ', value: 'x' }, { key: ' phone ', value: '123' }])).toEqual({ return_days: '30', name: 'Demo', phone: '123' });
  });
  it('list the template variables with the shop variables', () => {
    const v = templateVariables({ return_days: '30', name: 'Demo' });
    expect(v).toContain('{{shop.return_days}}');
    expect(v.filter((x) => x === '{{shop.name}}')).toHaveLength(1);
    expect(v).toContain('{{order.tracking_url}}');
    expect(v[0]).toBe('{{contact.name}}');
  });
});

describe('catalog', () => {
  it('has every English key in Chinese, and joins the console catalog', () => {
    expect(Object.keys(botMessages.en).filter((k) => !(k in botMessages.zh))).toEqual([]);
    expect(Object.keys(botMessages.zh).filter((k) => !(k in botMessages.en))).toEqual([]);
    expect(messages.zh['bot.retrain']).toBe(botMessages.zh['bot.retrain']);
  });
});

describe('words', () => {
  it('adds the version to edits only when there is one', () => {
    expect(versionQuery(null)).toBe('');
    expect(versionQuery(undefined)).toBe('');
    expect(versionQuery(0)).toBe('?version=0');
    expect(versionQuery(7)).toBe('?version=7');
  });
  it('reports training', () => {
    expect(describeTraining({ version: 3, intents: 21, examples: 640, faqs: 2, millis: 812 }, en)).toBe(
      'Trained 21 intents, 640 examples and 2 FAQ entries in 0.8 s.',
    );
    expect(describeTraining({ version: 3, intents: 21, examples: 640, faqs: 2, millis: 812 }, zh)).toContain('21 个意图');
  });
  it('describes every decision in words', () => {
    const cases: [Decision, string][] = [
      [{ action: 'answer', intent: 'refund_request' }, 'Answer with the intent “refund_request”.'],
      [{ action: 'answer_faq', id: 'opening-hours' }, 'Answer with the FAQ entry “opening-hours”.'],
      [{ action: 'ask', intent: 'order_status', slot: 'order_number' }, 'Ask for the order number first: “order_status” needs it.'],
      [{ action: 'hand_off', reason: { kind: 'buyer_asked' } }, 'Hand off to people: the buyer asked for a person.'],
      [
        { action: 'hand_off', reason: { kind: 'low_confidence', threshold: 0.5, best: { name: 'invoice', confidence: 0.314 } } },
        'Hand off to people: the best intent, “invoice” at 31%, is below the threshold of 50%.',
      ],
      [{ action: 'hand_off', reason: { kind: 'low_confidence', threshold: 0.7 } }, 'Hand off to people: no intent reached the threshold of 70%.'],
      [{ action: 'hand_off', reason: { kind: 'missing_data', intent: 'order_status', variable: 'order.status' } },
        'Hand off to people: the answer of “order_status” needs {{order.status}}, which Ferry does not have.'],
      [{ action: 'hand_off', reason: { kind: 'too_many_turns', turns: 6 } }, 'Hand off to people: the bot has already answered 6 times.'],
    ];
    for (const [d, text] of cases) expect(describeDecision(d, en)).toBe(text);
  });
  it('has a text for every hand-off reason and slot, in both languages', () => {
    const kinds = ['buyer_asked', 'vip', 'negative', 'low_confidence', 'low_confidence_best', 'out_of_scope', 'out_of_scope_best',
      'repeated', 'missing_slot', 'missing_data', 'not_text', 'failed', 'too_many_turns'];
    const slots = ['order_number', 'email', 'phone', 'tracking_number'];
    const keys = [...kinds.map((k) => `bot.reason.${k}`), ...slots.map((s) => `bot.slot.${s}`)];
    for (const k of keys) {
      expect(messages.en[k], k).toBeTruthy();
      expect(messages.zh[k], k).toBeTruthy();
    }
    expect(describeDecision({ action: 'ask', intent: 'order_status', slot: 'email' }, zh)).toBe('先询问邮箱地址：“order_status”需要它。');
    expect(percent(0.996)).toBe('100%');
  });
});
