import { describe, expect, it } from 'vitest';
import { translate } from '../lib/i18n';
import { messages } from './messages';
import { mergeMessages } from './merge-messages';
import { activeMerges, canUndo, reasonKey } from './merges';

describe('merging contacts', () => {
  const now = new Date('2026-03-10T12:00:00Z');

  it('lets owners and admins undo within the window only', () => {
    const m = { undo_until: '2026-04-01T00:00:00Z', undone_at: null };
    expect(canUndo(m, now, true)).toBe(true);
    expect(canUndo(m, now, false)).toBe(false);
    expect(canUndo({ ...m, undo_until: '2026-03-10T11:59:59Z' }, now, true)).toBe(false);
    expect(canUndo({ ...m, undone_at: '2026-03-09T00:00:00Z' }, now, true)).toBe(false);
  });

  it('keeps merges in effect', () => {
    const list = [{ id: 2, undo_until: 'x', undone_at: null }, { id: 1, undo_until: 'x', undone_at: '2026-01-01T00:00:00Z' }];
    expect(activeMerges(list).map((m) => m.id)).toEqual([2]);
  });

  it('names every reason in both languages', () => {
    for (const r of ['same_phone', 'same_email', 'same_name_and_country'] as const) {
      for (const locale of ['en', 'zh']) {
        expect(mergeMessages[locale][reasonKey(r)]).toBeTruthy();
        expect(translate(messages, locale, reasonKey(r), {})).not.toBe(reasonKey(r));
      }
    }
    expect(Object.keys(mergeMessages.zh).sort()).toEqual(Object.keys(mergeMessages.en).sort());
  });
});
