import { describe, expect, it } from 'vitest';
import { noticeForm, noticeRule, sendState, statsLine, type NoticeRule, type NoticeSend, type NoticeStats } from './notices';

const shipped: NoticeRule = {
  kind: 'shipped', enabled: true, channels: ['whatsapp', 'email'], delay_minutes: 15,
  texts: { es: 'Hola {{contact.name}}' }, countries: ['ES'], first_order_only: false, contact_tags: [],
  whatsapp_template: { name: 'order_shipped', languages: { es: 'es_MX', en: 'en_US' }, body: ['{{contact.name}}', '{{order.number}}'] },
};

describe('notice form', () => {
  it('round-trips a rule', () => {
    const f = noticeForm(shipped);
    expect(f.templateLanguages).toBe('es=es_MX, en=en_US');
    expect(f.templateBody).toBe('{{contact.name}} | {{order.number}}');
    expect(noticeRule('shipped', f)).toEqual(shipped);
  });

  it('drops empty texts, upper-cases countries and leaves the template out when unnamed', () => {
    const f = noticeForm(shipped);
    f.texts.push({ lang: 'de', text: '   ' });
    f.countries = 'es mx';
    f.template = '';
    const r = noticeRule('shipped', f);
    expect(r.texts).toEqual({ es: 'Hola {{contact.name}}' });
    expect(r.countries).toEqual(['ES', 'MX']);
    expect(r.whatsapp_template).toBeUndefined();
  });

  it('reads the conditions: order value in the currency, first order, tags', () => {
    const f = noticeForm({ ...shipped, min_order_total_minor: 5000, first_order_only: true, contact_tags: ['vip', 'b2b'] });
    expect([f.minOrder, f.firstOrderOnly, f.tags]).toEqual(['50.00', true, 'vip, b2b']);
    f.minOrder = '19,90';
    expect(noticeRule('shipped', f)).toMatchObject({ min_order_total_minor: 1990, first_order_only: true, contact_tags: ['vip', 'b2b'] });
    f.minOrder = 'lots';
    expect(() => noticeRule('shipped', f)).toThrow('lots');
  });

  it('names a template language that is not language=code', () => {
    const f = noticeForm(shipped);
    f.templateLanguages = 'es=es_MX, english';
    expect(() => noticeRule('shipped', f)).toThrow('english');
  });

  it('says why a notice did not go', () => {
    const n = { state: 'skipped', reason: 'opted_out', scheduled_at: '2026-03-10T12:00:00Z' } as NoticeSend;
    expect(sendState(n)).toEqual(['notices.skipped', { reason: 'opted_out' }]);
    expect(sendState({ ...n, state: 'scheduled' })).toEqual(['notices.scheduled', { at: '2026-03-10T12:00:00Z' }]);
    expect(sendState({ ...n, state: 'sent' })).toEqual(['notices.sent', {}]);
  });
});

describe('notice figures', () => {
  it('adds up skips and failures and stays quiet for a notice that never ran', () => {
    const s = { kind: 'shipped', sent: 3, delivered: 2, read: 1, replied: 1, scheduled: 0,
      failed: { '(#10) window': 1 }, skipped: { opted_out: 2, no_channel: 1 } } as NoticeStats;
    expect(statsLine(s)).toEqual({ sent: 3, delivered: 2, read: 1, replied: 1, skipped: 3, failed: 1 });
    expect(statsLine({ ...s, sent: 0, failed: {}, skipped: {} })).toBeNull();
  });
});
