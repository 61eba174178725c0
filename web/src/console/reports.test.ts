import { describe, expect, it } from 'vitest';
import type { OverviewLine } from '../api/types';
import { breakdownSeries, drillUrl, duration, firstResponseSeries, hasData, lastDays, percent, rating, reportQuery, reportUrl, volumeSeries } from './reports';

const p = (count: number, median: number | null) => ({ count, median, p90: median });

function line(bucket: string | null, key: string | null, opened: number, resolved: number, backlog: number, median: number | null): OverviewLine {
  return {
    bucket, key, label: null, opened, resolved, backlog, reopened: 0, bot_started: 0, bot_contained: 0, containment_rate: null,
    handed_off: 0, handoff_rate: null, agent_replies: 0, replies_per_conversation: null,
    first_response: p(median === null ? 0 : 1, median), first_response_business: p(0, null), next_response: p(0, null),
    next_response_business: p(0, null), resolution: p(0, null), resolution_business: p(0, null),
    rated: 0, csat: null, satisfied: 0, satisfied_rate: null,
  };
}

describe('reports', () => {
  it('build report, CSV and drill-down links with only what is set', () => {
    const params = { from: '2026-03-01', until: '2026-03-31', group_by: 'week' as const, by: null };
    expect(reportUrl('/api/v1/accounts/1', 'overview', params)).toBe('/api/v1/accounts/1/reports/overview?from=2026-03-01&until=2026-03-31&group_by=week');
    expect(reportUrl('/a', 'agents', { ...params, group_by: null }, true)).toBe('/a/reports/agents?from=2026-03-01&until=2026-03-31&format=csv');
    expect(reportQuery({ from: '', until: '', group_by: null, by: 'tag' })).toBe('by=tag');
    expect(drillUrl('/a', { ...params, by: 'tag' }, { metric: 'opened', bucket: '2026-03-02', key: '退货' }, 50)).toBe(
      '/a/reports/conversations?from=2026-03-01&until=2026-03-31&group_by=week&by=tag&metric=opened&bucket=2026-03-02&key=%E9%80%80%E8%B4%A7&limit=50',
    );
    expect(drillUrl('/a', params, { metric: 'backlog', bucket: null, key: null })).not.toContain('bucket=');
  });

  it('count the last days back from today, across a month', () => {
    expect(lastDays(new Date(2026, 2, 3), 7)).toEqual({ from: '2026-02-25', until: '2026-03-03' });
    expect(lastDays(new Date(2026, 0, 1), 1)).toEqual({ from: '2026-01-01', until: '2026-01-01' });
  });

  it('draw volume and first response per bucket, with gaps where nothing was answered', () => {
    const lines = [line('2026-03-02', null, 3, 1, 2, 600), line('2026-03-03', null, 0, 2, 0, null)];
    const v = volumeSeries(lines);
    expect(v.labels).toEqual(['2026-03-02', '2026-03-03']);
    expect(v.series.map((s) => s.values)).toEqual([[3, 0], [1, 2], [2, 0]]);
    expect(firstResponseSeries(lines).series[0].values).toEqual([10, null]);
    expect(hasData(v)).toBe(true);
    expect(hasData(firstResponseSeries([line('x', null, 0, 0, 0, null)]))).toBe(false);
    const b = breakdownSeries([line(null, 'CN', 4, 0, 0, null), line(null, null, 1, 0, 0, null)], (l) => l.key ?? '(none)');
    expect(b).toEqual({ labels: ['CN', '(none)'], series: [{ name: 'opened', values: [4, 1] }] });
  });

  it('read durations, shares and ratings as people do', () => {
    expect([duration(null), duration(45), duration(600), duration(3900), duration(7200), duration(66 * 3600), duration(50 * 3600)]).toEqual(
      ['–', '45 s', '10 min', '1 h 5 min', '2 h', '2 d 18 h', '2 d 2 h'],
    );
    expect([percent(null), percent(0.5), percent(2 / 3)]).toEqual(['–', '50 %', '67 %']);
    expect([rating(null), rating(11 / 3), rating(4)]).toEqual(['–', '3.7', '4.0']);
  });
});
