import { describe, expect, it } from 'vitest';
import { isRtl, pickLocale, translate } from './i18n';
import { messages } from '../console/messages';

describe('translate', () => {
  const cat = { en: { hi: 'Hello {name}', only_en: 'English' }, zh: { hi: '你好 {name}' } };
  it('fills placeholders and falls back to English, then the key', () => {
    expect(translate(cat, 'zh', 'hi', { name: '梅' })).toBe('你好 梅');
    expect(translate(cat, 'zh', 'only_en')).toBe('English');
    expect(translate(cat, 'zh', 'missing')).toBe('missing');
    expect(translate(cat, 'en', 'hi')).toBe('Hello {name}');
  });
});

describe('plurals', () => {
  it('pick the singular for one and the plural otherwise', () => {
    const c = { en: { late: '{days} {days|day|days} late' } };
    expect(translate(c, 'en', 'late', { days: 1 })).toBe('1 day late');
    expect(translate(c, 'en', 'late', { days: 7 })).toBe('7 days late');
    expect(translate(c, 'en', 'late', { days: '0' })).toBe('0 days late');
  });
  it('leave no "(s)" in the console\'s English', async () => {
    const { messages } = await import('../console/messages');
    await import('../console/alert-messages');
    for (const [k, v] of Object.entries(messages.en)) expect(v, k).not.toMatch(/\w\(s\)/);
  });
});

describe('pickLocale', () => {
  it('matches full tags, then primary subtags', () => {
    expect(pickLocale(['zh-CN', 'en'], ['en', 'zh'])).toBe('zh');
    expect(pickLocale(['fr-FR', 'de'], ['en', 'zh'])).toBe('en');
    expect(pickLocale(['AR'], ['en', 'ar'])).toBe('ar');
  });
});

describe('isRtl', () => {
  it('knows right-to-left scripts', () => {
    expect(isRtl('ar-AE')).toBe(true);
    expect(isRtl('he')).toBe(true);
    expect(isRtl('zh-CN')).toBe(false);
    expect(isRtl(undefined)).toBe(false);
  });
});

describe('console catalog', () => {
  it('has every English key in Chinese', () => {
    const missing = Object.keys(messages.en).filter((k) => !(k in messages.zh));
    expect(missing).toEqual([]);
  });
});
