import { describe, expect, it } from 'vitest';
import type { InboxConfig } from '../api/types';
import {
  draftComplete, emptyDraft, fill, hoursMinutes, lastBuyerAt, newVerifyToken, preview, previewText, replyWindow, sendable, templateOf,
  templateRequest, TEMPLATE_VARIABLES, webhookUrl, whatsappConfig, whatsappForm, WINDOW_MS, type WaTemplate,
} from './whatsapp';
import { whatsappMessages } from './whatsapp-messages';
import {
  appendPage, deliveriesQuery, groupReactions, isDeleted, quoted, replaceMessage, snippet, tick,
} from './deliveries';

const stored = {
  bot_enabled: true,
  whatsapp: {
    phone_number_id: '106540352242922', business_account_id: 102290129340398, verify_token: 'v3rify',
    access_token_set: true, app_secret_set: false, rate_per_second: 20,
  },
} as unknown as InboxConfig;

describe('WhatsApp inbox form', () => {
  it('shows stored secrets as set and sends none back unless typed', () => {
    const f = whatsappForm(stored);
    expect(f.accessTokenSet).toBe(true);
    expect(f.appSecretSet).toBe(false);
    expect(f.accessToken).toBe('');
    expect(f.businessAccountId).toBe('102290129340398');
    const out = whatsappConfig(f, stored) as unknown as { bot_enabled: boolean; whatsapp: Record<string, unknown> };
    expect(out.bot_enabled).toBe(true);
    expect(out.whatsapp).toEqual({
      phone_number_id: '106540352242922', business_account_id: '102290129340398', verify_token: 'v3rify', rate_per_second: 20,
    });
  });
  it('sends typed secrets, trimmed, and leaves out empty optional fields', () => {
    const f = whatsappForm(null);
    Object.assign(f, { phoneNumberId: ' 1 ', businessAccountId: '2', accessToken: ' EAAG ', appSecret: 's', verifyToken: 'v', ratePerSecond: 'x' });
    const out = whatsappConfig(f) as unknown as { whatsapp: Record<string, unknown> };
    expect(out.whatsapp).toEqual({ phone_number_id: '1', business_account_id: '2', access_token: 'EAAG', app_secret: 's', verify_token: 'v' });
  });
  it('builds the webhook URL and verify tokens', () => {
    expect(webhookUrl('https://help.shop.example/', 7)).toBe('https://help.shop.example/webhooks/whatsapp/7');
    expect(newVerifyToken((n) => new Uint8Array(n).fill(171))).toBe('ab'.repeat(16));
    expect(newVerifyToken()).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('reply window', () => {
  const at = '2026-12-01T10:00:00Z';
  const t0 = Date.parse(at);
  it('is open for 24 hours after the buyer’s last message', () => {
    const w = replyWindow(at, t0 + 20 * 3600_000 + 48 * 60_000);
    expect(w).toEqual({ open: true, leftMs: 3 * 3600_000 + 12 * 60_000, closesAt: t0 + WINDOW_MS });
    expect(hoursMinutes(3 * 3600_000 + 12 * 60_000)).toEqual({ h: 3, m: 12 });
  });
  it('rounds the time left up, and closes at the 24th hour', () => {
    expect(hoursMinutes(1000)).toEqual({ h: 0, m: 1 });
    expect(hoursMinutes(-5)).toEqual({ h: 0, m: 0 });
    expect(replyWindow(at, t0 + WINDOW_MS)).toEqual({ open: false, closedAt: t0 + WINDOW_MS });
  });
  it('counts from the latest incoming message shown when it is newer than the record', () => {
    const msgs = [
      { kind: 'incoming', sent_at: '2026-12-01T09:00:00Z' },
      { kind: 'outgoing', sent_at: '2026-12-02T12:00:00Z' },
      { kind: 'incoming', sent_at: '2026-12-02T11:00:00Z' },
    ];
    expect(lastBuyerAt(at, msgs)).toBe('2026-12-02T11:00:00Z');
    expect(lastBuyerAt(at, msgs.slice(0, 2))).toBe(at);
    expect(lastBuyerAt(null, [])).toBeNull();
    expect(lastBuyerAt(undefined, msgs.slice(0, 1))).toBe('2026-12-01T09:00:00Z');
  });
  it('is closed when the buyer never wrote', () => {
    expect(replyWindow(null, t0)).toEqual({ open: false, closedAt: null });
    expect(replyWindow('nonsense', t0)).toEqual({ open: false, closedAt: null });
  });
});

const shipped: WaTemplate = {
  id: '1', name: 'order_shipped', language: 'en_US', category: 'UTILITY', status: 'APPROVED',
  header: 'Order {{1}}', body: 'Hi {{1}}, your order {{2}} is on its way.', footer: 'Reply STOP to opt out',
  buttons: [{ kind: 'URL', text: 'Track', url: 'https://track.example/{{1}}' }, { kind: 'QUICK_REPLY', text: 'Thanks' }],
  header_parameters: 1, body_parameters: 2, button_parameters: [{ index: 0, sub_type: 'url' }, { index: 1, sub_type: 'quick_reply' }],
};

describe('templates', () => {
  it('offers approved templates only, sorted', () => {
    const list = [
      { ...shipped, name: 'welcome', status: 'APPROVED' },
      { ...shipped, name: 'promo', status: 'REJECTED' },
      { ...shipped, status: 'approved' },
      { ...shipped, name: 'draft', status: 'PENDING' },
    ];
    expect(sendable(list).map((t) => t.name)).toEqual(['order_shipped', 'welcome']);
  });
  it('turns the parameter form into the request body', () => {
    const d = emptyDraft(shipped);
    expect(d).toEqual({ header: [''], body: ['', ''], buttons: [{ index: 0, sub_type: 'url', value: '' }, { index: 1, sub_type: 'quick_reply', value: '' }] });
    expect(draftComplete(d)).toBe(false);
    d.header[0] = '{{order.number}}';
    d.body = [' {{contact.name}} ', '#1001'];
    d.buttons[0].value = '{{order.number}}';
    d.buttons[1].value = 'thanks';
    expect(draftComplete(d)).toBe(true);
    expect(templateRequest(shipped, d)).toEqual({
      template: {
        name: 'order_shipped', language: 'en_US', header: ['{{order.number}}'], body: ['{{contact.name}}', '#1001'],
        buttons: [{ index: 0, sub_type: 'url', value: '{{order.number}}' }, { index: 1, sub_type: 'quick_reply', value: 'thanks' }],
      },
    });
    expect(draftComplete({ ...d, body: ['x', '  '] })).toBe(false);
  });
  it('fills the preview, known variables included, and keeps the rest visible', () => {
    expect(fill('Hi {{1}}, {{2}} and {{ 3 }}', ['{{contact.name}}', ''], { 'contact.name': 'Mei' })).toBe('Hi Mei, {{2}} and {{ 3 }}');
    const d = { header: ['#1001'], body: ['{{contact.name}}', '{{order.number}}'], buttons: [{ index: 0, sub_type: 'url', value: 'abc' }] };
    const p = preview(shipped, d, { 'contact.name': 'Mei' });
    expect(p.header).toBe('Order #1001');
    expect(p.body).toBe('Hi Mei, your order {{order.number}} is on its way.');
    expect(p.buttons).toEqual([{ text: 'Track', url: 'https://track.example/abc' }, { text: 'Thanks', url: '' }]);
    expect(previewText(p)).toBe('Order #1001\n\nHi Mei, your order {{order.number}} is on its way.\n\nReply STOP to opt out');
    expect(previewText(preview({ ...shipped, header: null, footer: null }, d))).toBe('Hi {{contact.name}}, your order {{order.number}} is on its way.');
  });
  it('finds the template part of a message', () => {
    const template = { name: 'order_shipped', language: 'en_US', text: 'Hi Mei' };
    expect(templateOf({ parts: [{ type: 'text', text: 'x' }, { type: 'template', template }] })).toEqual(template);
    expect(templateOf({ parts: [{ type: 'text', text: 'x' }] })).toBeNull();
  });
  it('offers the variables the server fills, each labelled', () => {
    for (const v of TEMPLATE_VARIABLES) expect(whatsappMessages.zh[`wa.var.${v.slice(2, -2)}`]).toBeTruthy();
  });
});

describe('delivery status and message meta', () => {
  it('marks each state', () => {
    expect(tick({ state: 'queued' })?.icon).toBe('🕓');
    expect(tick({ state: 'sent' })?.icon).toBe('✓');
    expect(tick({ state: 'delivered' })).toEqual({ icon: '✓✓', tone: 'ok', key: 'delivery.delivered' });
    expect(tick({ state: 'read' })).toEqual({ icon: '✓✓', tone: 'read', key: 'delivery.read' });
    expect(tick({ state: 'failed', reason: 'x' })?.tone).toBe('failed');
    expect(tick(null)).toBeNull();
    for (const s of ['queued', 'sent', 'delivered', 'read', 'failed'] as const) expect(whatsappMessages.zh[tick({ state: s })!.key]).toBeTruthy();
  });
  it('groups reactions by emoji in the order they came', () => {
    const by = (id: number) => ({ type: 'contact' as const, id });
    expect(groupReactions([
      { emoji: '👍', by: by(1), at: '2026-12-01T10:02:00Z' },
      { emoji: '❤️', by: by(2), at: '2026-12-01T10:01:00Z' },
      { emoji: '👍', by: by(3), at: '2026-12-01T10:03:00Z' },
      { emoji: '', by: by(4), at: '2026-12-01T10:04:00Z' },
    ])).toEqual([{ emoji: '❤️', count: 1, by: [by(2)] }, { emoji: '👍', count: 2, by: [by(1), by(3)] }]);
    expect(groupReactions(undefined)).toEqual([]);
  });
  it('quotes the answered message when it is loaded', () => {
    const a = { id: 1, text: 'Where is my parcel?', parts: [] };
    const b = { id: 2, text: 'x', parts: [], meta: { reply_to: 1 } };
    const c = { id: 3, text: 'y', parts: [], meta: { reply_to: 99, deleted_at: '2026-12-01T10:00:00Z' } };
    expect(quoted(b, [a, b])).toBe(a);
    expect(quoted(c, [a, b])).toBeNull();
    expect(quoted(a, [a])).toBeNull();
    expect(isDeleted(c)).toBe(true);
    expect(isDeleted(a)).toBe(false);
    expect(snippet('  a\n  b  ')).toBe('a b');
    expect(snippet('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });
  it('pages failed deliveries', () => {
    expect(deliveriesQuery(null)).toBe('state=failed&limit=50');
    expect(deliveriesQuery(42, 20)).toBe('state=failed&limit=20&before=42');
    const rows = [{ id: 5 }, { id: 4 }];
    expect(appendPage(rows, { items: [{ id: 4 }, { id: 3 }], next_before: 3 })).toEqual([{ id: 5 }, { id: 4 }, { id: 3 }]);
    expect(replaceMessage([{ id: 1, s: 'a' }, { id: 2, s: 'b' }], { id: 2, s: 'c' })).toEqual([{ id: 1, s: 'a' }, { id: 2, s: 'c' }]);
  });
});

describe('WhatsApp messages', () => {
  it('has every key in English and Chinese', () => {
    expect(Object.keys(whatsappMessages.zh).sort()).toEqual(Object.keys(whatsappMessages.en).sort());
  });
});
