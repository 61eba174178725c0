import { describe, expect, it } from 'vitest';
import { flag, highlight, linkify, localTime, waitingFor } from './format';

describe('waitingFor', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('picks the largest whole unit', () => {
    expect(waitingFor('2026-01-01T11:59:30Z', now)).toBe('30s');
    expect(waitingFor('2026-01-01T11:48:00Z', now)).toBe('12m');
    expect(waitingFor('2026-01-01T09:00:00Z', now)).toBe('3h');
    expect(waitingFor('2025-12-30T12:00:00Z', now)).toBe('2d');
    expect(waitingFor(null, now)).toBe('');
  });
});

describe('flag', () => {
  it('maps countries and languages to flags', () => {
    expect(flag('DE')).toBe('🇩🇪');
    expect(flag('ja')).toBe('🇯🇵');
    expect(flag('zh-CN')).toBe('🇨🇳');
    expect(flag('')).toBe('');
  });
});

describe('localTime', () => {
  it('formats in the zone and tolerates unknown zones', () => {
    expect(localTime('Asia/Tokyo', new Date('2026-01-01T00:00:00Z'), 'en-GB')).toBe('09:00');
    expect(localTime('Not/AZone')).toBe('');
  });
});

describe('highlight', () => {
  it('marks every case-insensitive match', () => {
    expect(highlight('Order ORDER x', 'order')).toEqual([
      { text: 'Order', hit: true },
      { text: ' ', hit: false },
      { text: 'ORDER', hit: true },
      { text: ' x', hit: false },
    ]);
    expect(highlight('abc', '')).toEqual([{ text: 'abc', hit: false }]);
  });
});

describe('linkify', () => {
  it('makes http(s) links clickable and leaves the rest as text', () => {
    expect(linkify('Track it: https://t.test/JJD1?x=1. Thanks')).toEqual([
      { text: 'Track it: ' }, { text: 'https://t.test/JJD1?x=1', href: 'https://t.test/JJD1?x=1' }, { text: '. Thanks' },
    ]);
    expect(linkify('物流链接：https://t.test/a，谢谢')).toEqual([
      { text: '物流链接：' }, { text: 'https://t.test/a', href: 'https://t.test/a' }, { text: '，谢谢' },
    ]);
    expect(linkify('javascript:alert(1) and ftp://x')).toEqual([{ text: 'javascript:alert(1) and ftp://x' }]);
  });
});
