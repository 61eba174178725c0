// Where the console is, as the URL's hash: the page, the conversation list's
// status tab and the open conversation, so a reload or a shared link opens
// the same place (`#/inbox/open/42`, `#/inbox/bot`, `#/alerts`).
export type Page = 'inbox' | 'admin' | 'bot' | 'alerts' | 'deliveries' | 'questions' | 'reports' | 'segments' | 'campaigns' | 'journeys' | 'products' | 'security' | 'usage';

export interface Route {
  page: Page;
  /** The list's status tab (inbox page only). */
  status: string;
  /** The open conversation (inbox page only). */
  id: number | null;
}

const PAGES: Page[] = ['inbox', 'admin', 'bot', 'alerts', 'deliveries', 'questions', 'reports', 'segments', 'campaigns', 'journeys', 'products', 'security', 'usage'];
export const STATUSES = ['open', 'bot', 'pending', 'snoozed', 'resolved'] as const;

export function formatRoute(r: Route): string {
  if (r.page !== 'inbox') return `#/${r.page}`;
  return r.id ? `#/inbox/${r.status}/${r.id}` : `#/inbox/${r.status}`;
}

/** The route of a hash; `null` for an empty or unknown one. */
export function parseRoute(hash: string): Route | null {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const page = parts[0] as Page;
  if (!PAGES.includes(page)) return null;
  if (page !== 'inbox') return { page, status: 'open', id: null };
  const status = (STATUSES as readonly string[]).includes(parts[1] ?? '') ? parts[1] : 'open';
  const n = Number(parts[2]);
  return { page, status, id: Number.isInteger(n) && n > 0 ? n : null };
}
