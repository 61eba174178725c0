import { describe, expect, it } from 'vitest';
import type { InboxConfig } from '../api/types';
import { channelConfig, channelForm, channelWebhook, checkFacts, checkPart, metaWindow, missing, newToken, segmentLabel } from './channels';

describe('channel settings', () => {
  it('reads stored settings without secrets and sends secrets only when typed', () => {
    const stored = { bot_enabled: true, messenger: { page_id: 104857600123456, access_token_set: true, app_secret_set: true,
      verify_token: 'verify-token-0123456789', human_agent: true } } as unknown as InboxConfig;
    const f = channelForm('messenger', stored);
    expect(f.values.page_id).toBe('104857600123456');
    expect(f.values.access_token).toBe('');
    expect(f.set).toMatchObject({ access_token: true, app_secret: true });
    expect(f.values.human_agent).toBe('true');
    expect(missing('messenger', f)).toEqual([]);
    const out = channelConfig('messenger', f, stored) as unknown as Record<string, Record<string, unknown>>;
    expect(out.bot_enabled).toBe(true);
    expect(out.messenger).toEqual({ page_id: '104857600123456', verify_token: 'verify-token-0123456789', human_agent: true });
    f.values.access_token = ' EAAnew ';
    f.values.human_agent = '';
    const changed = channelConfig('messenger', f) as unknown as Record<string, Record<string, unknown>>;
    expect(changed.messenger.access_token).toBe('EAAnew');
    expect(changed.messenger.human_agent).toBe(false);
  });

  it('names what a new inbox still needs', () => {
    const f = channelForm('instagram', null);
    expect(missing('instagram', f)).toEqual(['page_id', 'instagram_account_id', 'access_token', 'app_secret', 'verify_token']);
    const sms = channelForm('sms', null);
    sms.values = { ...sms.values, account_sid: 'AC1', auth_token: 't', from_number: '+15005550006' };
    expect(missing('sms', sms)).toEqual([]);
    expect(channelConfig('sms', sms)).toEqual({ sms: { account_sid: 'AC1', auth_token: 't', from_number: '+15005550006' } });
  });

  it('builds webhook URLs, tokens and check lines', () => {
    expect(channelWebhook('https://ferry.example/', 'instagram', 7)).toBe('https://ferry.example/webhooks/instagram/7');
    expect(newToken((n) => new Uint8Array(n).fill(171))).toBe('ab'.repeat(16));
    const meta = checkPart('messenger', { meta: { ok: true, name: 'Shop', subscribed: true, webhook_url: 'u' } })!;
    expect(checkFacts(meta)).toEqual([['ch.page', 'Shop'], ['ch.subscribed', '✓'], ['ch.webhook_set', 'u']]);
    expect(checkFacts(checkPart('telegram', { telegram: { ok: true, username: 'bot' } })!)).toEqual([['ch.bot', '@bot']]);
    expect(checkPart('sms', { telegram: { ok: true } })).toBeNull();
  });
});

describe('Messenger and Instagram reply window', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');
  const ago = (h: number) => new Date(now - h * 3600_000).toISOString();

  it('is 24 hours, or 7 days with the human agent tag', () => {
    const w = metaWindow(ago(20), now, false);
    expect(w.open && w.leftMs).toBe(4 * 3600_000);
    expect(metaWindow(ago(25), now, false)).toMatchObject({ open: false, tagged: false });
    const tagged = metaWindow(ago(25), now, true);
    expect(tagged).toMatchObject({ open: true, tagged: true });
    expect(tagged.open && tagged.leftMs).toBe((7 * 24 - 25) * 3600_000);
    expect(metaWindow(ago(24 * 8), now, true)).toMatchObject({ open: false });
    expect(metaWindow(null, now, true)).toEqual({ open: false, closedAt: null, tagged: false });
  });
});

describe('SMS segments', () => {
  it('labels the count with its encoding and room left', () => {
    const t = (k: string, v?: Record<string, string | number>) => `${k}:${JSON.stringify(v)}`;
    expect(segmentLabel({ encoding: 'ucs2', segments: 2, units: 89, per_segment: 67, remaining: 45 }, t))
      .toBe('ch.segments:{"n":2,"encoding":"UCS-2","left":45}');
    expect(segmentLabel({ encoding: 'gsm7', segments: 1, units: 10, per_segment: 160, remaining: 150 }, t)).toContain('GSM-7');
  });
});
