import { describe, expect, it } from 'vitest';
import { translate } from '../lib/i18n';
import { messages } from './messages';
import { translationMessages } from './translation-messages';
import { offerTranslation, primary, replyContent, translationFor } from './translation';

const tr = (language: string, text: string) => ({ language, text, provider: 'libretranslate', source_language: 'es' });

describe('reading a translation', () => {
  it('picks the agent language and hides one equal to the text', () => {
    const m = { kind: 'incoming', text: '¿Dónde está mi pedido?', meta: { translations: [tr('en', 'Where is my order?'), tr('zh', '我的订单在哪里？')] } };
    expect(translationFor(m, 'zh-CN')?.text).toBe('我的订单在哪里？');
    expect(translationFor(m, 'de')).toBeNull();
    expect(translationFor({ ...m, meta: { translations: [tr('es', '¿Dónde está mi pedido?')] } }, 'es')).toBeNull();
    expect(primary('pt_BR')).toBe('pt');
  });

  it('offers translating buyers’ messages the agent may not read', () => {
    const m = { kind: 'incoming', text: 'Hola', meta: {} };
    expect(offerTranslation(m, ['zh'], 'es')).toBe(true);
    expect(offerTranslation(m, ['zh', 'es'], 'es-MX')).toBe(false);
    expect(offerTranslation({ ...m, kind: 'outgoing' }, ['zh'], 'es')).toBe(false);
    expect(offerTranslation({ ...m, text: '  ' }, ['zh'], 'es')).toBe(false);
    expect(offerTranslation({ ...m, meta: { translations: [tr('zh', '你好')] } }, ['zh'], null)).toBe(false);
  });
});

describe('sending a translated reply', () => {
  it('sends the checked translation with the agent’s words', () => {
    const draft = { text: 'Su pedido ya ha sido enviado.', language: 'es', original: '您的订单已经发货了。', source: 'zh' };
    expect(replyContent('您的订单已经发货了。', draft)).toEqual({
      content: 'Su pedido ya ha sido enviado.', written_as: { language: 'zh', text: '您的订单已经发货了。' },
    });
  });

  it('sends the text as typed when the draft changed since or nothing was translated', () => {
    const draft = { text: 'Hola', language: 'es', original: '你好', source: 'zh' };
    expect(replyContent('你好！', draft)).toEqual({ content: '你好！' });
    expect(replyContent('Hi', null)).toEqual({ content: 'Hi' });
    expect(replyContent('  ', null)).toEqual({ content: undefined });
  });

  it('has every string in both languages', () => {
    expect(Object.keys(translationMessages.zh).sort()).toEqual(Object.keys(translationMessages.en).sort());
    expect(translate(messages, 'zh', 'translate.show', {})).not.toBe('translate.show');
  });
});
