import { describe, expect, it } from 'vitest';
import type { VisitorMessage } from '../api/types';
import { caughtUp, emailFailure, mergeMessage, missedReplies, newClientId, sendFailure, stillPending, tooLong, view } from './outbox';

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
  it('catching up keeps live messages newer than the server\'s answer and drops none', () => {
    const l = caughtUp([msg(1, 'incoming'), msg(4, 'outgoing')], [msg(3, 'outgoing'), msg(1, 'incoming'), msg(2, 'outgoing')]);
    expect(l.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(caughtUp([msg(2, 'outgoing')], [msg(1, 'incoming')]).map((m) => m.id)).toEqual([1, 2]);
  });
  it('counts the replies missed while away, not the buyer\'s own messages', () => {
    const missed = missedReplies(new Set([1]), [msg(1, 'incoming'), msg(2, 'outgoing'), msg(3, 'incoming'), msg(4, 'outgoing')]);
    expect(missed.map((m) => m.id)).toEqual([2, 4]);
    expect(missedReplies(new Set([2]), [msg(2, 'outgoing')])).toEqual([]);
  });
  it('makes distinct client ids the server accepts', () => {
    const a = newClientId();
    expect(a).toMatch(/^[0-9a-f]{24}$/);
    expect(newClientId()).not.toBe(a);
  });
});

describe('widget errors', () => {
  it('knows a message over 16 KB before sending it', () => {
    expect(tooLong('a'.repeat(16 * 1024))).toBe(false);
    expect(tooLong('a'.repeat(16 * 1024 + 1))).toBe(true);
    expect(tooLong('订'.repeat(6000))).toBe(true);
  });
  it('drops what can never be sent and keeps the rest for a retry', () => {
    expect(sendFailure(422)).toEqual({ key: 'too_long', retry: false });
    expect(sendFailure(413)).toEqual({ key: 'too_long', retry: false });
    expect(sendFailure(429)).toEqual({ key: 'too_fast', retry: true });
    expect(sendFailure(null).retry).toBe(true);
    expect(sendFailure(503).retry).toBe(true);
    expect(sendFailure(403)).toEqual({ key: 'not_sent', retry: false });
  });
  it('explains a refused e-mail', () => {
    expect(emailFailure(409)).toBe('email_taken');
    expect(emailFailure(422)).toBe('email_invalid');
    expect(emailFailure(null)).toBe('email_failed');
  });
  it('has every string in every language', async () => {
    const { widgetMessages } = await import('./messages');
    const keys = Object.keys(widgetMessages.en);
    for (const k of ['too_long', 'too_fast', 'not_sent', 'email_taken', 'email_invalid', 'email_failed', 'new_reply']) expect(keys).toContain(k);
    for (const l of Object.keys(widgetMessages)) expect(Object.keys(widgetMessages[l]).sort()).toEqual([...keys].sort());
  });
});
