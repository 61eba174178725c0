import { describe, expect, it } from 'vitest';
import type { Alert } from '../api/types';
import { translate } from '../lib/i18n';
import { alertMessages } from './alert-messages';
import { messages } from './messages';
import { ALERT_KINDS, ALERT_STATUSES, alertActions, alertFacts, alertOrder, alertQuery, alertSku, alertTitle, openCount, percent, sortAlerts } from './alerts';

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 1, connection_id: 1, kind: 'out_of_stock', key: 'out_of_stock:DRESS-BLU-M', severity: 'warning', title: 'x', details: {},
    status: 'open', first_seen_at: '2026-11-20T10:00:00Z', last_seen_at: '2026-11-20T10:00:00Z', ...over,
  };
}

const en = (f: { key: string; vars: Record<string, string | number> }) => translate(messages, 'en', f.key, f.vars);

describe('alertFacts', () => {
  it('explains a stock-out with its SKU, stock and the buyers asking', () => {
    const a = alert({ details: { sku: 'DRESS-BLU-M', product_title: 'Linen Summer Dress', variant_title: 'Blue / M', stock: 0, open_conversations: 2 } });
    expect(alertFacts(a).map(en)).toEqual([
      'SKU DRESS-BLU-M · Linen Summer Dress · Blue / M', 'Stock: 0', 'Open conversations asking about it: 2',
    ]);
  });

  it('explains low stock by sell-through', () => {
    const a = alert({ kind: 'low_stock', details: { sku: 'TEE', stock: 3, units_sold: 7, window_days: 14, daily_rate: 0.5, days_of_cover: 6 } });
    expect(alertFacts(a).map(en)).toEqual(['SKU TEE', 'Stock: 3', '7 sold in 14 days (0.5 a day)', 'Runs out in about 6 days']);
  });

  it('explains a late order, overdue or not shipped', () => {
    const a = alert({ kind: 'late_order', details: { order_name: '#1001', reason: 'delivery_overdue', days_late: 7, carrier: 'DHL', tracking_number: 'JJD1', country: 'US' } });
    expect(alertFacts(a).map(en)).toEqual([
      'Order #1001', 'Not delivered: 7 days past the delivery estimate', 'Carrier DHL · tracking JJD1', 'Ships to US',
    ]);
    const b = alert({ kind: 'late_order', details: { order_number: '1006', reason: 'not_shipped', days_late: 0 } });
    expect(alertFacts(b).map(en)).toEqual(['Order 1006', 'Not shipped: 0 days past the promised ship date']);
  });

  it('explains a carrier delay with shares in percent', () => {
    const a = alert({ kind: 'carrier_delay', details: { carrier: 'YunExpress', country: 'BR', shipments: 5, late: 4, late_share: 0.8, others_late_share: 0.05, median_transit_days: 20.5 } });
    expect(alertFacts(a).map(en)).toEqual(['YunExpress → BR', '4 of 5 shipments late (80%; 5% for all other routes)', 'Median transit: 20.5 days']);
  });

  it('leaves out facts whose numbers are missing and ignores unknown kinds', () => {
    expect(alertFacts(alert({ details: { sku: 'A' } })).map((f) => f.key)).toEqual(['alerts.fact.sku']);
    expect(alertFacts(alert({ kind: 'weather', details: { stock: 1 } }))).toEqual([]);
    expect(alertFacts(alert({ details: null as unknown as Alert['details'] })).map((f) => f.key)).toEqual(['alerts.fact.sku']);
  });
});

describe('alertOrder', () => {
  it('names the order of a late-order alert only', () => {
    expect(alertOrder(alert({ kind: 'late_order', details: { order_name: '#1001' } }))).toBe('#1001');
    expect(alertOrder(alert({ kind: 'late_order', details: { order_number: '1001' } }))).toBe('1001');
    expect(alertOrder(alert({ kind: 'late_order', details: {} }))).toBeNull();
    expect(alertOrder(alert({ details: { order_name: '#1' } }))).toBeNull();
  });
});

describe('sortAlerts', () => {
  it('puts open before acknowledged before resolved, critical first, then newest', () => {
    const list = [
      alert({ id: 1, status: 'resolved', severity: 'critical' }),
      alert({ id: 2, status: 'open', severity: 'warning', first_seen_at: '2026-11-21T00:00:00Z' }),
      alert({ id: 3, status: 'acknowledged', severity: 'critical' }),
      alert({ id: 4, status: 'open', severity: 'critical' }),
      alert({ id: 5, status: 'open', severity: 'warning', first_seen_at: '2026-11-19T00:00:00Z' }),
    ];
    expect(sortAlerts(list).map((a) => a.id)).toEqual([4, 2, 5, 3, 1]);
    expect(list[0].id).toBe(1);
  });
});

describe('roles and counts', () => {
  it('lets everyone acknowledge open alerts and owners and admins resolve', () => {
    expect(alertActions({ status: 'open' }, 'agent')).toEqual({ acknowledge: true, resolve: false });
    expect(alertActions({ status: 'open' }, 'admin')).toEqual({ acknowledge: true, resolve: true });
    expect(alertActions({ status: 'acknowledged' }, 'owner')).toEqual({ acknowledge: false, resolve: true });
    expect(alertActions({ status: 'resolved' }, 'owner')).toEqual({ acknowledge: false, resolve: false });
    expect(alertActions({ status: 'open' }, undefined).resolve).toBe(false);
  });

  it('counts open alerts and builds the tab query', () => {
    expect(openCount([{ status: 'open' }, { status: 'resolved' }, { status: 'open' }, { status: 'acknowledged' }])).toBe(2);
    expect(alertQuery('open')).toBe('?status=open');
    expect(alertQuery('all')).toBe('');
    expect(alertQuery('bogus')).toBe('');
    expect(percent(0.333)).toBe('33%');
  });
});

describe('alert messages', () => {
  it('has every key in English and Chinese, and labels for every kind and status', () => {
    expect(Object.keys(alertMessages.zh).sort()).toEqual(Object.keys(alertMessages.en).sort());
    for (const k of ALERT_KINDS) expect(alertMessages.en[`alerts.kind.${k}`]).toBeTruthy();
    for (const s of ALERT_STATUSES) expect(alertMessages.zh[`alerts.status.${s}`]).toBeTruthy();
    expect(messages.zh['nav.alerts']).toBe('预警');
  });
});

describe('alertTitle', () => {
  it('says the headline in the agent\'s language, or leaves the server\'s when details are missing', () => {
    const late = alert({ kind: 'late_order', details: { order_name: '#1001', reason: 'delivery_overdue', days_late: 1 } });
    const h = alertTitle(late)!;
    expect(translate(messages, 'en', h.key, h.vars)).toBe('Order #1001 is 1 day past its delivery estimate');
    expect(translate(messages, 'zh', h.key, h.vars)).toBe('订单 #1001 已超过预计送达时间 1 天');
    const stock = alertTitle(alert({ kind: 'out_of_stock', details: { sku: 'DRESS-BLU-M', product_title: 'Linen Summer Dress', variant_title: 'Blue / M' } }))!;
    expect(translate(messages, 'zh', stock.key, stock.vars)).toBe('Linen Summer Dress · Blue / M 已缺货，但仍在售');
    expect(alertTitle(alert({ kind: 'carrier_delay', details: {} }))).toBeNull();
  });
});

describe('defect rate alerts', () => {
  const jump = alert({
    kind: 'defect_rate', key: 'defect_rate:SNKR-42', connection_id: null,
    details: { sku: 'SNKR-42', recent_days: 7, baseline_days: 28, recent_defects: 3, recent_orders: 3, recent_rate: 1, baseline_defects: 0, baseline_orders: 5, baseline_rate: 0 },
  });

  it('explains the jump in both languages and links to the product', () => {
    expect(alertFacts(jump).map(en)).toEqual([
      'SKU SNKR-42',
      'Last 7 days: 3 defect conversations for 3 orders (100%)',
      '28 days before: 0 for 5 orders (0%)',
    ]);
    const h = alertTitle(jump)!;
    expect(translate(messages, 'en', h.key, h.vars)).toBe('Defect rate of SNKR-42 jumped to 100% of orders');
    expect(translate(messages, 'zh', h.key, h.vars)).toBe('SNKR-42 的质量问题率升至订单的 100%');
    expect(alertSku(jump)).toBe('SNKR-42');
    expect(alertSku(alert())).toBeNull();
    expect(alertTitle(alert({ kind: 'defect_rate', details: {} }))).toBeNull();
    expect(ALERT_KINDS).toContain('defect_rate');
    expect(alertMessages.zh['alerts.kind.defect_rate']).toBeTruthy();
  });
});

describe('webhook alerts', () => {
  it('explain which receiver kept failing', () => {
    const a = alert({ kind: 'webhook_disabled', connection_id: null, details: { webhook_id: 4, url: 'https://hooks.example/in', consecutive_failures: 50 } });
    expect(alertFacts(a).map(en)).toEqual(['Receiver: https://hooks.example/in', '50 failed attempts in a row']);
    const title = alertTitle(a);
    expect(title && en(title)).toBe('Webhook 4 was disabled: its receiver kept failing');
    expect(alertMessages.zh['alerts.kind.webhook_disabled']).toBeTruthy();
  });
});
