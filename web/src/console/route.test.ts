import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute } from './route';

describe('console routes', () => {
  it('round-trip the page, the status tab and the open conversation', () => {
    for (const r of [
      { page: 'inbox', status: 'open', id: 42 },
      { page: 'inbox', status: 'bot', id: null },
      { page: 'alerts', status: 'open', id: null },
      { page: 'bot', status: 'open', id: null },
      { page: 'reports', status: 'open', id: null },
    ] as const) {
      expect(parseRoute(formatRoute(r))).toEqual(r);
    }
    expect(formatRoute({ page: 'inbox', status: 'resolved', id: 7 })).toBe('#/inbox/resolved/7');
  });

  it('ignore what they do not know', () => {
    expect(parseRoute('')).toBeNull();
    expect(parseRoute('#/nowhere/1')).toBeNull();
    expect(parseRoute('#/inbox/weird/abc')).toEqual({ page: 'inbox', status: 'open', id: null });
  });
});
