import { describe, expect, it } from 'vitest';
import type { Contact } from '../api/types';
import { translate } from '../lib/i18n';
import { messages } from './messages';
import './segment-messages';
import { buildFilter, emptyForm, formFromFilter, profileChips } from './segments';

describe('buildFilter', () => {
  it('adds nothing for an empty form', () => {
    expect(buildFilter(emptyForm())).toEqual({ all: [] });
  });

  it('turns each filled field into one condition', () => {
    const f = {
      ...emptyForm(), country: 'DE, fr', vip: 'yes' as const, channel: 'whatsapp', sku: 'MUG-1', spentAtLeast: '120.5',
      ordersAtLeast: '2', lastOrderAfter: '2026-09-01', csatMax: '2', attrKey: 'tier', attrValue: 'gold',
    };
    expect(buildFilter(f).all).toEqual([
      { field: 'country', any_of: ['DE', 'fr'] },
      { field: 'vip', is: true },
      { field: 'channel', any_of: ['whatsapp'] },
      { field: 'bought_sku', any_of: ['MUG-1'] },
      { field: 'spent', at_least: 12050 },
      { field: 'order_count', at_least: 2 },
      { field: 'last_order', after: '2026-09-01T00:00:00Z', before: null },
      { field: 'csat', min: null, max: 2 },
      { field: 'attribute', key: 'tier', equals: 'gold' },
    ]);
  });

  it('reads a saved filter back into the same form', () => {
    const f = { ...emptyForm(), language: 'de', vip: 'no' as const, topic: 'returns', spentAtLeast: '50', lastOrderBefore: '2026-06-01', csatMin: '4' };
    expect(formFromFilter(buildFilter(f))).toEqual(f);
  });
});

describe('profileChips', () => {
  const profile = {
    country: 'DE', language: 'de', vip: true, vip_by_orders: true, order_count: 2, spent_minor: 12000, last_order_at: null,
    skus: ['MUG-1'], topics: ['returns'], last_csat: 2, last_csat_at: '2026-11-20T10:00:00Z', auto_tags: ['vip'],
  };
  it('shows VIP first, then orders, place, topics and the last rating, in both languages', () => {
    const chips = profileChips({ profile } as Pick<Contact, 'profile'>);
    expect(chips.map((c) => translate(messages, 'en', c.key, c.vars))).toEqual([
      'VIP by orders', '2 orders · 120.00', 'Country DE', 'Speaks de', 'Topic: returns', 'Last rating 2/5 · 2026-11-20',
    ]);
    expect(translate(messages, 'zh', chips[0].key, chips[0].vars)).toBe('VIP（按订单）');
  });
  it('shows nothing without a profile', () => {
    expect(profileChips({ profile: undefined } as Pick<Contact, 'profile'>)).toEqual([]);
  });
});
