import { describe, expect, it } from 'vitest';
import type { VisitorMessage } from '../api/types';
import { mergeMessage, newClientId, stillPending, view } from './outbox';

const msg = (id: number, kind: 'incoming' | 'outgoing', client_id: string | null = null): VisitorMessage => ({
  id, kind, client_id, text: `m${id}`, parts: [{ type: 'text', text: `m${id}` }], author: kind === 'incoming' ? 'visitor' : 'agent',
  created_at: '2026-01-01T00:00:00Z',
}) as VisitorMessage;

describe('widget outbox', () => {
  it('merges by id without duplicates, in order', () => {
    const l = mergeMessage(mergeMessage([msg(2, 'outgoing')], msg(1, 'incoming')), msg(2, 'outgoing'));
    expect(l.map((m) => m.id)).toEqual([1, 2]);
  });
  it('drops pending messages once the server has them', () => {
    const pending = [{ client_id: 'a', text: 'hi', created_at: '' }, { client_id: 'b', text: 'yo', created_at: '' }];
    expect(stillPending(pending, [msg(1, 'incoming', 'a')]).map((p) => p.client_id)).toEqual(['b']);
    const v = view([msg(1, 'incoming', 'a'), msg(2, 'outgoing')], pending);
    expect(v.map((s) => [s.mine, s.pending])).toEqual([[true, false], [false, false], [true, true]]);
  });
  it('makes distinct client ids the server accepts', () => {
    const a = newClientId();
    expect(a).toMatch(/^[0-9a-f]{24}$/);
    expect(newClientId()).not.toBe(a);
  });
});
