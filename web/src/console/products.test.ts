import { describe, expect, it } from 'vitest';
import type { ProductWeek } from '../api/types';
import { firstSku, parseNames, productUrl, productsUrl, ratePercent, sparkline, trend, weeklySeries } from './products';

const week = (week: string, defects: number, orders: number, rate: number | null): ProductWeek => ({
  week, defect_conversations: defects, conversations: defects + 1, orders, units: orders * 2, defect_rate: rate,
});

describe('product feedback', () => {
  it('builds the list, SKU and CSV URLs', () => {
    const p = { from: '2026-03-02', until: '2026-03-15' };
    expect(productsUrl('/api/v1/accounts/1', p, { limit: 50, offset: 0 })).toBe('/api/v1/accounts/1/insights/products?from=2026-03-02&until=2026-03-15&limit=50');
    expect(productsUrl('/a', p, { limit: 50, offset: 100 })).toContain('&offset=100');
    expect(productsUrl('/a', { from: '', until: '' }, null, true)).toBe('/a/insights/products?format=csv');
    expect(productUrl('/a', 'MUG/RED 1', p)).toBe('/a/insights/products/MUG%2FRED%201?from=2026-03-02&until=2026-03-15');
    expect(productUrl('/a', 'X', { from: '', until: '' }, true)).toBe('/a/insights/products/X?format=csv');
  });

  it('draws weeks and reads their trend', () => {
    const weeks = [week('2026-03-02', 1, 10, 0.1), week('2026-03-09', 0, 0, null), week('2026-03-16', 4, 10, 0.4)];
    expect(weeklySeries(weeks)).toEqual({
      labels: ['2026-03-02', '2026-03-09', '2026-03-16'],
      series: [
        { name: 'defect_conversations', values: [1, 0, 4] },
        { name: 'conversations', values: [2, 1, 5] },
        { name: 'orders', values: [10, 0, 10] },
      ],
    });
    expect(trend(weeks)).toBe('up');
    expect(trend([week('a', 4, 10, 0.4), week('b', 1, 10, 0.1)])).toBe('down');
    expect(trend([week('a', 1, 10, 0.1), week('b', 1, 10, 0.1)])).toBe('flat');
    expect(trend([week('a', 1, 10, 0.1), week('b', 1, 0, null)])).toBeNull();
    expect(sparkline(weeks)).toBe('▃▁█');
    expect(sparkline([week('a', 0, 1, 0)])).toBe('▁');
  });

  it('reads rates and names', () => {
    expect(ratePercent(0.125)).toBe('12.5 %');
    expect(ratePercent(1)).toBe('100 %');
    expect(ratePercent(null)).toBe('–');
    expect(parseNames(' Damaged, broken\nwrong_item，damaged , ')).toEqual(['damaged', 'broken', 'wrong_item']);
    expect(parseNames('')).toEqual([]);
    expect(firstSku([], null)).toBeNull();
    expect(firstSku([{ sku: 'A' } as never], null)).toBe('A');
    expect(firstSku([{ sku: 'A' } as never], 'B')).toBe('B');
  });
});
