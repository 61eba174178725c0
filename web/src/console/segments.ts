// Segments: the simple form that builds a contact filter, and back; the
// profile chips of a contact. Pure functions, tested in segments.test.ts.
import type { Contact, SegmentCondition, SegmentFilter } from '../api/types';

/** The form's fields, as typed (lists comma-separated, amounts in major units). */
export interface SegmentForm {
  country: string;
  language: string;
  vip: '' | 'yes' | 'no';
  tag: string;
  autoTag: string;
  topic: string;
  channel: string;
  sku: string;
  spentAtLeast: string;
  ordersAtLeast: string;
  lastOrderAfter: string;
  lastOrderBefore: string;
  csatMin: string;
  csatMax: string;
  attrKey: string;
  attrValue: string;
}

export function emptyForm(): SegmentForm {
  return {
    country: '', language: '', vip: '', tag: '', autoTag: '', topic: '', channel: '', sku: '', spentAtLeast: '',
    ordersAtLeast: '', lastOrderAfter: '', lastOrderBefore: '', csatMin: '', csatMax: '', attrKey: '', attrValue: '',
  };
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const num = (s: string) => (s.trim() === '' || Number.isNaN(Number(s)) ? null : Number(s));
/** A date (`2026-11-01`) as the start of that day in UTC. */
const day = (s: string) => (/^\d{4}-\d{2}-\d{2}$/.test(s.trim()) ? `${s.trim()}T00:00:00Z` : null);

/** The filter the form describes; empty fields add nothing. */
export function buildFilter(f: SegmentForm): SegmentFilter {
  const all: SegmentCondition[] = [];
  const anyOf = (field: 'country' | 'language' | 'tag' | 'auto_tag' | 'topic' | 'bought_sku', v: string) => {
    const values = list(v);
    if (values.length) all.push({ field, any_of: values } as SegmentCondition);
  };
  anyOf('country', f.country);
  anyOf('language', f.language);
  if (f.vip) all.push({ field: 'vip', is: f.vip === 'yes' });
  anyOf('tag', f.tag);
  anyOf('auto_tag', f.autoTag);
  anyOf('topic', f.topic);
  const channels = list(f.channel);
  if (channels.length) all.push({ field: 'channel', any_of: channels } as SegmentCondition);
  anyOf('bought_sku', f.sku);
  const spent = num(f.spentAtLeast);
  if (spent !== null) all.push({ field: 'spent', at_least: Math.round(spent * 100) });
  const orders = num(f.ordersAtLeast);
  if (orders !== null) all.push({ field: 'order_count', at_least: Math.round(orders) });
  const after = day(f.lastOrderAfter);
  const before = day(f.lastOrderBefore);
  if (after || before) all.push({ field: 'last_order', after, before });
  const min = num(f.csatMin);
  const max = num(f.csatMax);
  if (min !== null || max !== null) all.push({ field: 'csat', min, max });
  if (f.attrKey.trim()) all.push({ field: 'attribute', key: f.attrKey.trim(), equals: f.attrValue });
  return { all };
}

/** The form showing a saved filter (conditions it cannot show are kept by the caller). */
export function formFromFilter(filter: SegmentFilter): SegmentForm {
  const f = emptyForm();
  for (const c of filter.all ?? []) {
    switch (c.field) {
      case 'country': f.country = c.any_of.join(', '); break;
      case 'language': f.language = c.any_of.join(', '); break;
      case 'vip': f.vip = c.is ? 'yes' : 'no'; break;
      case 'tag': f.tag = c.any_of.join(', '); break;
      case 'auto_tag': f.autoTag = c.any_of.join(', '); break;
      case 'topic': f.topic = c.any_of.join(', '); break;
      case 'channel': f.channel = c.any_of.join(', '); break;
      case 'bought_sku': f.sku = c.any_of.join(', '); break;
      case 'spent': f.spentAtLeast = c.at_least == null ? '' : String(c.at_least / 100); break;
      case 'order_count': f.ordersAtLeast = c.at_least == null ? '' : String(c.at_least); break;
      case 'last_order': f.lastOrderAfter = c.after?.slice(0, 10) ?? ''; f.lastOrderBefore = c.before?.slice(0, 10) ?? ''; break;
      case 'csat': f.csatMin = c.min == null ? '' : String(c.min); f.csatMax = c.max == null ? '' : String(c.max); break;
      case 'attribute': f.attrKey = c.key; f.attrValue = c.equals; break;
    }
  }
  return f;
}

/** A chip of the contact panel: a text key and its values. */
export interface Chip { key: string; vars: Record<string, string | number>; kind: 'vip' | 'topic' | 'csat' | 'orders' | 'place' }

/** The chips a contact's profile shows, VIP first. */
export function profileChips(c: Pick<Contact, 'profile'>): Chip[] {
  const p = c.profile;
  if (!p) return [];
  const out: Chip[] = [];
  if (p.vip) out.push({ key: p.vip_by_orders ? 'profile.vip_orders' : 'profile.vip', vars: {}, kind: 'vip' });
  if (p.order_count > 0) out.push({ key: 'profile.orders', vars: { count: p.order_count, spent: (p.spent_minor / 100).toFixed(2) }, kind: 'orders' });
  if (p.country) out.push({ key: 'profile.country', vars: { country: p.country }, kind: 'place' });
  if (p.language) out.push({ key: 'profile.language', vars: { language: p.language }, kind: 'place' });
  for (const topic of p.topics) out.push({ key: 'profile.topic', vars: { topic }, kind: 'topic' });
  if (p.last_csat != null) {
    out.push({ key: 'profile.csat', vars: { rating: p.last_csat, date: (p.last_csat_at ?? '').slice(0, 10) }, kind: 'csat' });
  }
  return out;
}
