import { describe, expect, it } from 'vitest';
import type { Order } from '../api/types';
import { messages } from './messages';
import { shopMessages } from './shop-messages';
import {
  deliveryPromise, itemCount, lineText, money, importQuery, newestFirst, ORDER_STATES, orderSummary, rejectedLine, safeUrl, shipmentPhrase, shopBody, shortDate, stateBadge,
} from './orders';

function order(over: Partial<Order> = {}): Order {
  return {
    id: 1, connection_id: 1, number: '1001', name: '#1001', state: 'paid', financial_status: 'paid', currency: 'EUR', total: '49.90',
    line_items: [], fulfillments: [], refunds: [], created_at: '2026-03-01T10:00:00Z', updated_at: '2026-03-01T10:00:00Z', ...over,
  };
}

describe('stateBadge', () => {
  it('gives every known state a label key and a tone', () => {
    expect(stateBadge('pending')).toEqual({ key: 'order.state.pending', raw: 'pending', tone: 'wait' });
    expect(stateBadge('partially_shipped').tone).toBe('progress');
    expect(stateBadge('delivered').tone).toBe('good');
    expect(stateBadge('cancelled').tone).toBe('off');
    expect(stateBadge('refunded').tone).toBe('bad');
  });
  it('shows an unknown state in its own words, neutrally', () => {
    expect(stateBadge('on_hold')).toEqual({ key: null, raw: 'on hold', tone: 'neutral' });
  });
  it('has English and Chinese labels for every state', () => {
    for (const s of ORDER_STATES) {
      expect(messages.en[`order.state.${s}`]).toBeTruthy();
      expect(messages.zh[`order.state.${s}`]).toBeTruthy();
    }
  });
});

describe('messages', () => {
  it('has every order and shop string in both languages', () => {
    const keys = (l: string) => Object.keys(messages[l]).filter((k) => k.startsWith('order.') || k.startsWith('search.') || k === 'admin.shops');
    expect(keys('en').filter((k) => !(k in messages.zh))).toEqual([]);
    expect(keys('zh').filter((k) => !(k in messages.en))).toEqual([]);
    expect(Object.keys(shopMessages.en).filter((k) => !(k in shopMessages.zh))).toEqual([]);
    expect(Object.keys(shopMessages.zh).filter((k) => !(k in shopMessages.en))).toEqual([]);
  });
});

describe('order summary', () => {
  const o = order({
    line_items: [
      { title: 'Linen shirt', variant_title: 'M / Blue', quantity: 2, price: '20.00', sku: 'LS-M' },
      { title: 'Cap', variant_title: null, quantity: 1, price: '9.90' },
      { title: 'Socks', variant_title: 'Default Title ', quantity: 3, price: '3.00' },
    ],
  });
  it('writes a line as title × quantity (variant)', () => {
    expect(lineText(o.line_items[0])).toBe('Linen shirt × 2 (M / Blue)');
    expect(lineText(o.line_items[1])).toBe('Cap × 1');
  });
  it('summarises the first lines and counts the rest', () => {
    expect(orderSummary(o)).toBe('#1001 · Linen shirt × 2 (M / Blue), Cap × 1 +1');
    expect(orderSummary(order())).toBe('#1001');
    expect(itemCount(o)).toBe(6);
  });
  it('sorts newest first without changing the input', () => {
    const list = [order({ id: 1, created_at: '2026-01-01T00:00:00Z' }), order({ id: 2, created_at: '2026-02-01T00:00:00Z' }), order({ id: 3, created_at: '2026-01-15T00:00:00Z' })];
    expect(newestFirst(list).map((x) => x.id)).toEqual([2, 3, 1]);
    expect(list.map((x) => x.id)).toEqual([1, 2, 3]);
  });
});

describe('money', () => {
  it('formats decimal strings in the currency', () => {
    expect(money('49.90', 'EUR', 'en')).toBe('€49.90');
    expect(money('1234.5', 'USD', 'en')).toBe('$1,234.50');
    expect(money('100', 'CNY', 'zh')).toBe('¥100.00');
  });
  it('falls back to the plain text', () => {
    expect(money('abc', 'EUR')).toBe('abc EUR');
    expect(money('10.00', 'NOPE')).toBe('10.00 NOPE');
  });
});

describe('deliveryPromise', () => {
  const now = Date.parse('2026-03-10T09:00:00Z');
  const f = (estimated_delivery_at: string | null, shipment_status: string | null = 'in_transit', status = 'success') => ({ estimated_delivery_at, shipment_status, status });
  it('says when the carrier promised it, against today', () => {
    expect(deliveryPromise(f('2026-03-14T18:00:00Z'), now, 'en', 'UTC')).toEqual({ key: 'order.promise_by', vars: { date: 'Mar 14, 2026', days: 4 } });
    expect(deliveryPromise(f('2026-03-10T23:00:00Z'), now, 'en', 'UTC')?.key).toBe('order.promise_today');
    expect(deliveryPromise(f('2026-03-11T01:00:00Z'), now, 'en', 'UTC')?.key).toBe('order.promise_tomorrow');
    expect(deliveryPromise(f('2026-03-07T12:00:00Z'), now, 'en', 'UTC')).toEqual({ key: 'order.promise_late', vars: { date: 'Mar 7, 2026', days: 3 } });
  });
  it('counts days in the agent zone', () => {
    // 01:00 UTC on the 11th is still the 10th in New York.
    expect(deliveryPromise(f('2026-03-11T01:00:00Z'), now, 'en', 'America/New_York')?.key).toBe('order.promise_today');
  });
  it('has nothing to promise without a date, once delivered, or cancelled', () => {
    expect(deliveryPromise(f(null), now)).toBeNull();
    expect(deliveryPromise(f('2026-03-07T12:00:00Z', 'delivered'), now)).toBeNull();
    expect(deliveryPromise(f('2026-03-14T12:00:00Z', null, 'cancelled'), now)).toBeNull();
    expect(deliveryPromise(f('soon'), now)).toBeNull();
  });
  it('writes the date in Chinese', () => {
    expect(deliveryPromise(f('2026-03-14T18:00:00Z'), now, 'zh', 'UTC')?.vars.date).toBe('2026年3月14日');
    expect(shortDate('bad')).toBe('');
  });
});

describe('shipments', () => {
  it('names the carrier event', () => {
    expect(shipmentPhrase({ shipment_status: 'in_transit', status: 'success' })).toEqual({ key: 'order.shipment.in_transit', vars: {} });
    expect(shipmentPhrase({ shipment_status: 'held_at_customs', status: 'success' })).toEqual({ key: 'order.shipment.other', vars: { status: 'held at customs' } });
    expect(shipmentPhrase({ shipment_status: null, status: 'cancelled' })?.key).toBe('order.shipment.cancelled');
    expect(shipmentPhrase({ shipment_status: null, status: 'success' })).toBeNull();
  });
  it('links only http(s) tracking URLs', () => {
    expect(safeUrl('https://track.example/1Z')).toBe('https://track.example/1Z');
    expect(safeUrl('javascript:alert(1)')).toBeNull();
    expect(safeUrl('not a url')).toBeNull();
    expect(safeUrl(null)).toBeNull();
  });
});

describe('shopBody', () => {
  it('trims, leaves blanks out and keeps only the domain', () => {
    expect(shopBody({ name: ' Demo ', shop_domain: 'https://Demo.myshopify.com/admin', secret: '', api_url: ' ', access_token: 'tok' })).toEqual({
      name: 'Demo', shop_domain: 'demo.myshopify.com', secret: undefined, api_url: undefined, access_token: 'tok',
    });
  });
});

describe('file imports', () => {
  it('builds the query from the file name and the defaults', () => {
    expect(importQuery({ kind: 'orders', fileName: 'Orders.CSV', currency: ' eur ', dryRun: false })).toBe('kind=orders&format=csv&currency=EUR');
    expect(importQuery({ kind: 'products', fileName: 'x.ndjson', currency: 'euro', dryRun: true })).toBe('kind=products&format=json&dry_run=true');
    expect(importQuery({ kind: 'orders', fileName: 'export', currency: '', dryRun: false })).toBe('kind=orders');
  });
  it('describes a rejected row with its line, order, cell and reason', () => {
    expect(rejectedLine({ line: 4, key: '1002', column: 'quantity', value: 'two', reason: 'must be a whole number from 1' }))
      .toBe('line 4 (1002) · quantity "two": must be a whole number from 1');
    expect(rejectedLine({ line: 5, key: '1002', column: null, value: null, reason: 'order 1002 was rejected because of line 4' }))
      .toBe('line 5 (1002) · order 1002 was rejected because of line 4');
    expect(rejectedLine({ line: 2, column: 'currency', value: null, reason: 'no currency (add a currency column or give a default currency)' }))
      .toBe('line 2 · no currency (add a currency column or give a default currency)');
  });
  it('sends only name and domain for a file-import shop', () => {
    expect(shopBody({ name: ' Own ', shop_domain: 'https://Own.example/shop', secret: 's', api_url: 'u', access_token: 't', platform: 'import' }))
      .toEqual({ name: 'Own', shop_domain: 'own.example', platform: 'import' });
  });
});
