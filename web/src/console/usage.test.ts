import { describe, expect, it } from 'vitest';
import { translate } from '../lib/i18n';
import { messages } from './messages';
import { usageMessages } from './usage-messages';
import { channelCell, channelsOf, monthOf, monthsBefore, totals, usageSeries, usageUrl, type MonthUsage } from './usage';

function month(over: Partial<MonthUsage> = {}): MonthUsage {
  return {
    month: '2026-11', active_contacts: 2, conversations_opened: 3, messages_in: 5, messages_out: 4, bot_resolutions: 1,
    channels: [{ channel: 'whatsapp', incoming: 3, outgoing: 2 }, { channel: 'email', incoming: 2, outgoing: 2 }], ...over,
  };
}

describe('months', () => {
  it('counts back across years, in UTC', () => {
    expect(monthsBefore('2026-02', 3)).toBe('2025-11');
    expect(monthsBefore('2026-12', 0)).toBe('2026-12');
    expect(monthsBefore('2026-01', 12)).toBe('2025-01');
    expect(monthOf(new Date(Date.UTC(2026, 0, 31, 23, 30)))).toBe('2026-01');
  });

  it('asks for the last months, at most 24', () => {
    expect(usageUrl('/api/v1/accounts/7', '2026-03', 6)).toBe('/api/v1/accounts/7/usage?month=2025-10&to=2026-03');
    expect(usageUrl('/api/v1/accounts/7', '2026-03', 99)).toBe('/api/v1/accounts/7/usage?month=2024-04&to=2026-03');
  });
});

describe('table and chart', () => {
  const months = [month({ month: '2026-10', channels: [{ channel: 'api', incoming: 1, outgoing: 0 }] }), month()];

  it('lists every channel of the range and fills the gaps with 0', () => {
    expect(channelsOf(months)).toEqual(['api', 'email', 'whatsapp']);
    expect(channelCell(months[0], 'whatsapp')).toEqual({ incoming: 0, outgoing: 0 });
    expect(channelCell(months[1], 'whatsapp')).toEqual({ incoming: 3, outgoing: 2 });
  });

  it('charts four series per month and adds the totals', () => {
    const s = usageSeries(months);
    expect(s.labels).toEqual(['2026-10', '2026-11']);
    expect(s.series.map((x) => x.name)).toEqual(['active_contacts', 'conversations_opened', 'messages_in', 'messages_out']);
    expect(s.series[2].values).toEqual([5, 5]);
    expect(totals(months)).toEqual({ active_contacts: 4, conversations_opened: 6, messages_in: 10, messages_out: 8, bot_resolutions: 2 });
  });

  it('speaks English and Chinese', () => {
    expect(Object.keys(usageMessages.zh).sort()).toEqual(Object.keys(usageMessages.en).sort());
    expect(translate(messages, 'zh', 'usage.channel', { channel: 'email', incoming: 2, outgoing: 1 })).toBe('email：收 2 / 发 1');
    expect(translate(messages, 'en', 'nav.usage')).toBe('Usage');
  });
});
