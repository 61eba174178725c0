// The Reports page's logic, kept out of the components so it is tested:
// the query of a report, its CSV and drill-down links, the series a chart
// draws from the overview's lines, and how figures read.
import type { OverviewLine } from '../api/types';

export type Tab = 'overview' | 'breakdown' | 'agents' | 'handoffs';
export const TABS: Tab[] = ['overview', 'breakdown', 'agents', 'handoffs'];
export type GroupBy = 'day' | 'week' | 'month';
export const GROUPS: GroupBy[] = ['day', 'week', 'month'];
/** The dimensions a breakdown offers (the API's names). */
export const DIMENSIONS = ['channel', 'inbox', 'country', 'language', 'intent', 'tag', 'team', 'agent', 'sku'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface ReportParams {
  /** First local day, `YYYY-MM-DD` (empty: 29 days before `until`). */
  from: string;
  /** Last local day, `YYYY-MM-DD` (empty: today in the account's time zone). */
  until: string;
  group_by: GroupBy | null;
  by: Dimension | null;
}

/** The number behind a drill-down: a metric, in one bucket and value (or all). */
export interface DrillTarget {
  metric: string;
  bucket: string | null;
  key: string | null;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `YYYY-MM-DD` of a date's calendar day (in the browser's time zone). */
export function isoDay(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The last `days` days up to `today`, both included. */
export function lastDays(today: Date, days: number): { from: string; until: string } {
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1));
  return { from: isoDay(from), until: isoDay(today) };
}

/** The query string of a report (without `?`); `extra` goes last. */
export function reportQuery(p: ReportParams, extra: Record<string, string | null | undefined> = {}): string {
  const q = new URLSearchParams();
  // Without days the server takes the last 30 in the account's time zone.
  if (p.from) q.set('from', p.from);
  if (p.until) q.set('until', p.until);
  if (p.group_by) q.set('group_by', p.group_by);
  if (p.by) q.set('by', p.by);
  for (const [k, v] of Object.entries(extra)) if (v !== null && v !== undefined) q.set(k, v);
  return q.toString();
}

/** A report's URL under the account (`overview`, `agents`, `handoffs`), as JSON or CSV. */
export function reportUrl(account: string, kind: 'overview' | 'agents' | 'handoffs', p: ReportParams, csv = false): string {
  return `${account}/reports/${kind}?${reportQuery(p, { format: csv ? 'csv' : null })}`;
}

/** The URL of the conversations behind a number of the overview. */
export function drillUrl(account: string, p: ReportParams, target: DrillTarget, limit = 200, csv = false): string {
  return `${account}/reports/conversations?${reportQuery(p, {
    metric: target.metric,
    bucket: target.bucket,
    key: target.key,
    limit: String(limit),
    format: csv ? 'csv' : null,
  })}`;
}

/** What a chart draws: labels along the x axis and named series (a gap is `null`). */
export interface Series {
  labels: string[];
  series: { name: string; values: (number | null)[] }[];
}

/** Opened, resolved and backlog per bucket, from the lines of a report without breakdown. */
export function volumeSeries(lines: OverviewLine[]): Series {
  const own = lines.filter((l) => l.key === null || l.key === undefined);
  return {
    labels: own.map((l) => l.bucket ?? ''),
    series: [
      { name: 'opened', values: own.map((l) => l.opened) },
      { name: 'resolved', values: own.map((l) => l.resolved) },
      { name: 'backlog', values: own.map((l) => l.backlog) },
    ],
  };
}

/** Median first response per bucket, in minutes (gaps where nothing was answered). */
export function firstResponseSeries(lines: OverviewLine[]): Series {
  const own = lines.filter((l) => l.key === null || l.key === undefined);
  return {
    labels: own.map((l) => l.bucket ?? ''),
    series: [
      {
        name: 'first_response',
        values: own.map((l) => (l.first_response.median === null || l.first_response.median === undefined ? null : Math.round(l.first_response.median / 6) / 10)),
      },
    ],
  };
}

/** One bar per value of the breakdown (as ordered by the report), its label and opened count. */
export function breakdownSeries(lines: OverviewLine[], label: (l: OverviewLine) => string): Series {
  return { labels: lines.map(label), series: [{ name: 'opened', values: lines.map((l) => l.opened) }] };
}

/** Whether a chart has anything to draw. */
export function hasData(s: Series): boolean {
  return s.series.some((x) => x.values.some((v) => v !== null && v !== 0));
}

/** A duration in seconds as people read it: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`; `–` when none. */
export function duration(secs: number | null | undefined): string {
  if (secs === null || secs === undefined) return '–';
  if (secs < 60) return `${secs} s`;
  const min = Math.round(secs / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A share as a percentage with no decimals (`50 %`); `–` when none. */
export function percent(r: number | null | undefined): string {
  return r === null || r === undefined ? '–' : `${Math.round(r * 100)} %`;
}

/** A mean rating with one decimal (`4.3`); `–` when none. */
export function rating(r: number | null | undefined): string {
  return r === null || r === undefined ? '–' : (Math.round(r * 10) / 10).toFixed(1);
}
