import { describe, expect, it, vi } from 'vitest';
import { blocks, debounced, pieces } from './compliance';
import type { Finding } from '../api/types';

function finding(start: number, end: number, severity: 'warn' | 'block' = 'block'): Finding {
  return { rule: 'amazon.external_link', severity, location: { type: 'text' }, span: { start, end, excerpt: '' }, explanation: 'x' };
}

describe('pieces', () => {
  it('cuts the text at byte spans, multi-byte characters included', () => {
    const text = '您好 see https://x.example now';
    const start = new TextEncoder().encode('您好 see ').length;
    const end = start + 'https://x.example'.length;
    expect(pieces(text, [finding(start, end)])).toEqual([
      { text: '您好 see ', severity: null },
      { text: 'https://x.example', severity: 'block' },
      { text: ' now', severity: null },
    ]);
  });
  it('merges overlapping spans and keeps the stronger severity', () => {
    expect(pieces('abcdef', [finding(1, 3, 'warn'), finding(2, 4, 'block')])).toEqual([
      { text: 'a', severity: null },
      { text: 'bcd', severity: 'block' },
      { text: 'ef', severity: null },
    ]);
  });
  it('ignores findings without a span in the text', () => {
    const subject: Finding = { ...finding(0, 2), location: { type: 'subject' } };
    expect(pieces('hello', [subject])).toEqual([{ text: 'hello', severity: null }]);
  });
});

describe('blocks', () => {
  it('is true only for a blocking verdict', () => {
    expect(blocks({ verdict: 'block', findings: [] })).toBe(true);
    expect(blocks({ verdict: 'allow_with_warnings', findings: [] })).toBe(false);
    expect(blocks(null)).toBe(false);
  });
});

describe('debounced', () => {
  it('runs once after a quiet spell and delivers only the latest answer', async () => {
    vi.useFakeTimers();
    const run = vi.fn(async (s: string) => s.toUpperCase());
    const got: (string | null)[] = [];
    const check = debounced(run, (r) => got.push(r), 300);
    check('a');
    check('ab');
    vi.advanceTimersByTime(299);
    expect(run).not.toHaveBeenCalled();
    check('abc');
    vi.advanceTimersByTime(300);
    await vi.runAllTimersAsync();
    expect(run).toHaveBeenCalledTimes(1);
    expect(got).toEqual(['ABC']);
    vi.useRealTimers();
  });
});
