import { describe, expect, it } from 'vitest';
import type { Conversation } from '../api/types';
import { describeError, matchesFilter, originLines, previewOf, sorted, tagsChanged, upsertSorted, waitingSince } from './logic';

function conv(id: number, over: Partial<Conversation> = {}): Conversation {
  return {
    id, inbox_id: 1, contact_id: id, status: 'open', assignee_id: null, team_id: null, priority: 'none' as Conversation['priority'],
    language: null, tags: [], snoozed_until: null, handoff_reason: null, last_buyer_message_at: null, first_reply_at: null,
    resolved_at: null, last_activity_at: '2026-01-01T10:00:00Z', created_at: '2026-01-01T09:00:00Z', updated_at: '2026-01-01T10:00:00Z',
    ...over,
  } as Conversation;
}

describe('matchesFilter', () => {
  it('applies view, status, inbox, team and tag', () => {
    const c = conv(1, { assignee_id: 7, tags: ['vip'], team_id: 3 });
    expect(matchesFilter(c, { view: 'mine', status: 'open' }, 7)).toBe(true);
    expect(matchesFilter(c, { view: 'mine', status: 'open' }, 8)).toBe(false);
    expect(matchesFilter(c, { view: 'unassigned', status: 'open' }, 7)).toBe(false);
    expect(matchesFilter(c, { view: 'all', status: 'resolved' }, 7)).toBe(false);
    expect(matchesFilter(c, { view: 'all', status: 'all', tag: 'vip', team_id: 3 }, 7)).toBe(true);
    expect(matchesFilter(c, { view: 'all', status: 'open', inbox_id: 2 }, 7)).toBe(false);
  });
});

describe('ordering', () => {
  it('puts fresh activity on top and replaces the old copy', () => {
    const a = conv(1, { last_activity_at: '2026-01-01T10:00:00Z' });
    const b = conv(2, { last_activity_at: '2026-01-01T11:00:00Z' });
    const a2 = { ...a, last_activity_at: '2026-01-01T12:00:00Z' };
    expect(upsertSorted([b, a], a2).map((c) => c.id)).toEqual([1, 2]);
    expect(upsertSorted([b, a], a2)).toHaveLength(2);
  });
  it('sorts by waiting time, answered conversations last', () => {
    const old = conv(1, { last_buyer_message_at: '2026-01-01T08:00:00Z' });
    const fresh = conv(2, { last_buyer_message_at: '2026-01-01T09:30:00Z' });
    const answered = conv(3, { last_buyer_message_at: '2026-01-01T07:00:00Z', first_reply_at: '2026-01-01T07:05:00Z' });
    expect(sorted([fresh, answered, old], 'waiting').map((c) => c.id)).toEqual([1, 2, 3]);
    expect(waitingSince(answered)).toBeNull();
  });
});

describe('previewOf', () => {
  it('names what a message without text carries', () => {
    const att = { url: '/a', content_type: 'image/png' };
    expect(previewOf({ text: 'hi', parts: [{ type: 'text' }] })).toBe('hi');
    expect(previewOf({ text: '', parts: [{ type: 'image', attachment: att } as { type: string }] })).toBe('📷');
    expect(previewOf({ text: ' ', parts: [{ type: 'file' }] })).toBe('📎');
  });
});

describe('tagsChanged', () => {
  it('notices added, removed and first-seen tags', () => {
    expect(tagsChanged({ tags: ['a'] }, { tags: ['a'] })).toBe(false);
    expect(tagsChanged({ tags: ['a'] }, { tags: ['a', 'b'] })).toBe(true);
    expect(tagsChanged({ tags: ['a', 'b'] }, { tags: ['b'] })).toBe(true);
    expect(tagsChanged(undefined, { tags: [] })).toBe(false);
    expect(tagsChanged(undefined, { tags: ['x'] })).toBe(true);
  });
});

describe('describeError', () => {
  it('says a known error code in Chinese and keeps the server\'s words otherwise', async () => {
    const { ApiFailure } = await import('../api/client');
    const { messages } = await import('./messages');
    const { translate } = await import('../lib/i18n');
    const zh = (k: string) => translate(messages, 'zh', k);
    expect(describeError(new ApiFailure(403, 'forbidden', 'agents cannot do that'), 'zh', zh)).toBe('您的角色无权执行此操作。');
    expect(describeError(new ApiFailure(422, 'invalid', 'give a name'), 'zh', zh)).toBe('give a name');
    expect(describeError(new ApiFailure(403, 'forbidden', 'agents cannot do that'), 'en', zh)).toBe('agents cannot do that');
  });
});

describe('originLines', () => {
  it('reads one site per line', () => {
    expect(originLines(' https://shop.example/\n\n*.brand.example , https://b.example')).toEqual(['https://shop.example', '*.brand.example', 'https://b.example']);
    expect(originLines('')).toEqual([]);
  });
});
