// The console's state: who is logged in, the lists, the open conversation,
// and the live sockets that keep them current without reloads.
import { api } from '../api/client';
import type { Order } from '../api/types';
import type { Agent, CannedResponse, Contact, Conversation, Counts, Inbox, Message, Profile, Tag, Team, TypingEvent } from '../api/types';
import { translate } from '../lib/i18n';
import { messages } from './messages';
import { describeError, matchesFilter, previewOf, tagsChanged, upsertSorted, type Filter, type Sort } from './logic';
import { parseRoute, type Page, type Route } from './route';
import type { LoginChallenge } from '../api/types';
import { isChallenge } from './security';
import './security-messages';
import { publicPage, type PublicPage } from './credentials';

const LOCALE_KEY = 'ferry.locale';

export const ui = $state({
  locale: (localStorage.getItem(LOCALE_KEY) ?? (navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en')) as string,
  online: false,
  notify: localStorage.getItem('ferry.notify') === '1',
  sound: localStorage.getItem('ferry.sound') === '1',
  page: 'inbox' as Page,
  help: false,
  /** The URL follows the console once the place it named is open. */
  routed: false,
  /** The sidebar is open over the page (small screens). */
  nav: false,
  now: Date.now(),
  /** The SKU the Products page opens on (set by a defect-rate alert). */
  productSku: null as string | null,
});

export function t(key: string, vars: Record<string, string | number> = {}): string {
  return translate(messages, ui.locale, key, vars);
}

/** What went wrong, for the agent: a known error code in the console's
 * language, else the server's words. */
export function errorMessage(e: unknown): string {
  return describeError(e, ui.locale, (k) => t(k));
}

export function setLocale(l: string) {
  ui.locale = l;
  localStorage.setItem(LOCALE_KEY, l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

export const session = $state({
  profile: null as Profile | null,
  checked: false,
  /** A page an e-mailed link opened (reset, invitation), shown instead. */
  publicPage: publicPage(location.pathname) as PublicPage | null,
});

export const dir = $state({
  inboxes: [] as Inbox[],
  teams: [] as Team[],
  agents: [] as Agent[],
  tags: [] as Tag[],
  viewCounts: { mine: 0, unassigned: 0, all: 0 } as Record<string, number>,
  counts: null as Counts | null,
  canned: [] as CannedResponse[],
  openAlerts: 0,
});

export const list = $state({
  filter: { view: 'all', status: 'open' } as Filter,
  sort: 'activity' as Sort,
  items: [] as Conversation[],
  next: null as string | null,
  unread: {} as Record<number, number>,
  contacts: {} as Record<number, Contact>,
  previews: {} as Record<number, string>,
});

/** Each contact's orders in the shop mirror, newest first (the contact panel
 * loads them; canned responses fill `{{order.*}}` from the newest). */
export const contactOrders = $state<Record<number, Order[]>>({});

export const open = $state({
  id: null as number | null,
  messages: [] as Message[],
  typing: null as string | null,
  focusMessage: null as number | null,
});

export function acct(): string {
  return `/api/v1/accounts/${session.profile?.account_id}`;
}

export function me(): number {
  return session.profile?.user.id ?? 0;
}

function query(f: Filter, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams(extra);
  if (f.view === 'mine') p.set('assignee', 'me');
  if (f.view === 'unassigned') p.set('assignee', 'unassigned');
  if (f.inbox_id) p.set('inbox_id', String(f.inbox_id));
  if (f.team_id) p.set('team_id', String(f.team_id));
  if (f.tag) p.set('tag', f.tag);
  return p.toString();
}

export async function checkSession() {
  try {
    session.profile = await api<Profile>('GET', '/api/v1/profile');
    // A session limited to setting up two-factor authentication loads
    // nothing else: every other route refuses it.
    if (!session.profile.two_factor_setup_required) await boot();
  } catch {
    session.profile = null;
  } finally {
    session.checked = true;
  }
}

/** Signs in; answers the challenge when a code is due next. */
export async function login(email: string, password: string): Promise<LoginChallenge | null> {
  const r = await api<Profile | LoginChallenge>('POST', '/api/v1/auth/login', { email, password });
  if (isChallenge(r)) return r;
  await signedIn(r);
  return null;
}

/** The login's second step: a code of the app or a recovery code. */
export async function loginWithCode(challenge: string, code: string) {
  await signedIn(await api<Profile>('POST', '/api/v1/auth/login/two_factor', { challenge, code }));
}

async function signedIn(p: Profile) {
  session.profile = p;
  if (!p.two_factor_setup_required) await boot();
}

/** After setting up two-factor authentication in a limited session: the
 * whole console opens. */
export async function refreshProfile() {
  const was = session.profile?.two_factor_setup_required;
  session.profile = await api<Profile>('GET', '/api/v1/profile');
  if (was && !session.profile.two_factor_setup_required) await boot();
}

/** Opens the console for a user who just got a session (after accepting
 * an invitation or resetting the password). */
export async function enter(profile: Profile) {
  session.publicPage = null;
  await signedIn(profile);
}

export async function logout() {
  await api('POST', '/api/v1/auth/logout');
  clearInterval(alertTimer);
  stopLive();
  session.profile = null;
  list.items = [];
  open.id = null;
}

async function boot() {
  const route = parseRoute(location.hash);
  if (route) {
    ui.page = route.page;
    list.filter = { ...list.filter, status: route.status };
  }
  await Promise.all([loadDirectory(), loadList(), loadCounts()]);
  if (route?.id) await select(route.id).catch(() => {});
  ui.routed = true;
  startLive();
  void loadAlertCount();
  // The detectors run on the server's schedule; the badge follows them.
  clearInterval(alertTimer);
  alertTimer = setInterval(() => void loadAlertCount(), 60000);
}

let alertTimer: ReturnType<typeof setInterval> | undefined;

/** Refreshes the nav badge: the account's open alerts. A failure keeps the last count. */
export async function loadAlertCount() {
  if (!session.profile) return;
  try {
    const open = await api<{ status: string }[]>('GET', `${acct()}/alerts?status=open&limit=500`);
    dir.openAlerts = open.length;
  } catch {
    // The badge is a hint; the Alerts page shows errors.
  }
}

export async function loadDirectory() {
  const a = acct();
  const [inboxes, teams, agents, tags, canned] = await Promise.all([
    api<Inbox[]>('GET', `${a}/inboxes`),
    api<Team[]>('GET', `${a}/teams`),
    api<Agent[]>('GET', `${a}/agents`),
    api<Tag[]>('GET', `${a}/tags`),
    api<CannedResponse[]>('GET', `${a}/canned_responses`),
  ]);
  Object.assign(dir, { inboxes, teams, agents, tags, canned });
}

/** Reloads the account's canned responses (after another agent's change, or ours). */
export async function loadCanned() {
  dir.canned = await api<CannedResponse[]>('GET', `${acct()}/canned_responses`);
}

export async function loadCounts() {
  const a = acct();
  const base = { ...list.filter, view: 'all' } as Filter;
  const [mine, unassigned, all, counts] = await Promise.all([
    api<Counts>('GET', `${a}/conversations/meta?assignee=me`),
    api<Counts>('GET', `${a}/conversations/meta?assignee=unassigned`),
    api<Counts>('GET', `${a}/conversations/meta`),
    api<Counts>('GET', `${a}/conversations/meta?${query({ ...base, view: list.filter.view })}`),
  ]);
  dir.viewCounts = { mine: mine.open, unassigned: unassigned.open, all: all.open };
  dir.counts = counts;
}

let tagsTimer: ReturnType<typeof setTimeout> | undefined;
function refreshTagsSoon() {
  clearTimeout(tagsTimer);
  tagsTimer = setTimeout(() => void api<Tag[]>('GET', `${acct()}/tags`).then((tags) => (dir.tags = tags), () => {}), 150);
}

let countsTimer: ReturnType<typeof setTimeout> | undefined;
function refreshCountsSoon() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(() => void loadCounts().catch(() => {}), 150);
}

export async function loadList(more = false) {
  const q = query(list.filter, { status: list.filter.status, limit: '50', ...(more && list.next ? { cursor: list.next } : {}) });
  const page = await api<{ data: Conversation[]; next_cursor?: string | null }>('GET', `${acct()}/conversations?${q}`);
  list.items = more ? [...list.items, ...page.data] : page.data;
  list.next = page.next_cursor ?? null;
  await Promise.all(page.data.map((c) => ensureContact(c.contact_id)));
  void Promise.all(page.data.map((c) => loadPreview(c.id)));
}

async function loadPreview(id: number) {
  if (list.previews[id] !== undefined) return;
  const msgs = await api<Message[]>('GET', `${acct()}/conversations/${id}/messages?limit=5`);
  const last = [...msgs].reverse().find((m) => m.kind === 'incoming' || m.kind === 'outgoing');
  list.previews[id] = last ? previewOf(last) : '';
}

export async function ensureContact(id: number): Promise<Contact | undefined> {
  if (!list.contacts[id]) {
    list.contacts[id] = await api<Contact>('GET', `${acct()}/contacts/${id}`);
  }
  return list.contacts[id];
}

export async function setFilter(f: Partial<Filter>) {
  list.filter = { ...list.filter, ...f };
  await Promise.all([loadList(), loadCounts()]);
}

export async function select(id: number, focusMessage: number | null = null) {
  open.id = id;
  open.typing = null;
  open.focusMessage = focusMessage;
  list.unread[id] = 0;
  open.messages = await api<Message[]>('GET', `${acct()}/conversations/${id}/messages?limit=200`);
  if (!list.items.some((c) => c.id === id)) {
    const c = await api<Conversation>('GET', `${acct()}/conversations/${id}`);
    await ensureContact(c.contact_id);
    list.items = [c, ...list.items];
  }
  // The buyer sees the shop read the conversation (WhatsApp's blue ticks);
  // a receipt that does not go through is not the agent's problem.
  const conv = list.items.find((c) => c.id === id);
  const inbox = dir.inboxes.find((i) => i.id === conv?.inbox_id);
  if (inbox?.channel === 'whatsapp' && open.messages.some((m) => m.kind === 'incoming')) {
    api('POST', `${acct()}/conversations/${id}/read`, {}).catch(() => {});
  }
}

/** Where the console is now, for the URL. */
export function currentRoute(): Route {
  return { page: ui.page, status: list.filter.status, id: ui.page === 'inbox' ? open.id : null };
}

/** Goes where the URL says (back and forward, an edited or pasted link). */
export async function followRoute() {
  const r = parseRoute(location.hash);
  if (!r || !session.profile) return;
  ui.page = r.page;
  if (r.page !== 'inbox') return;
  if (list.filter.status !== r.status) await setFilter({ status: r.status });
  if (r.id && r.id !== open.id) await select(r.id).catch(() => {});
  if (!r.id) open.id = null;
}

export function current(): Conversation | undefined {
  return list.items.find((c) => c.id === open.id);
}

function upsertConversation(c: Conversation) {
  const visible = matchesFilter(c, list.filter, me());
  const exists = list.items.some((x) => x.id === c.id);
  if (visible || c.id === open.id) {
    list.items = upsertSorted(list.items, c);
    if (!exists) void ensureContact(c.contact_id);
  } else if (exists) {
    list.items = list.items.filter((x) => x.id !== c.id);
  }
}

export function applyConversation(c: Conversation) {
  const before = list.items.find((x) => x.id === c.id);
  upsertConversation(c);
  // The sidebar's tags and their counts follow everyone's tagging.
  if (tagsChanged(before, c)) refreshTagsSoon();
  refreshCountsSoon();
}

let ws: WebSocket | null = null;
let live: WebSocket | null = null;
let retry = 0;
let stopped = false;
// Frames of one outbox event share its id; a frame is identified by id and kind.
const seen = new Set<string>();
const counted = new Set<number>();
// The newest event id received: a reconnecting socket asks for what it
// missed after it.
let lastEvent: number | null = null;

function stopLive() {
  stopped = true;
  ws?.close();
  live?.close();
}

function wsUrl(path: string) {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

function startLive() {
  stopped = false;
  ws = new WebSocket(wsUrl(lastEvent === null ? '/ws' : `/ws?after=${lastEvent}`));
  ws.onopen = () => {
    retry = 0;
  };
  ws.onmessage = (e) => onEvent(JSON.parse(e.data));
  ws.onclose = () => {
    ui.online = false;
    if (!stopped) setTimeout(startLive, Math.min(10000, 500 * 2 ** retry++));
  };
  startTypingSocket();
}

function startTypingSocket() {
  live = new WebSocket(wsUrl(`${acct()}/live`));
  live.onmessage = (e) => {
    const f = JSON.parse(e.data) as { event: string; data?: TypingEvent };
    if (f.event !== 'typing' || !f.data || f.data.conversation_id !== open.id) return;
    if (f.data.who.type === 'contact') {
      const c = current();
      open.typing = f.data.typing ? (list.contacts[c?.contact_id ?? 0]?.name || '…') : null;
      // Typing signals repeat while the buyer types; silence ends it.
      clearTimeout(typingTimer);
      if (open.typing) typingTimer = setTimeout(() => (open.typing = null), 6000);
    }
  };
  live.onclose = () => {
    if (!stopped) setTimeout(startTypingSocket, 2000);
  };
}

let lastTypingSent = 0;
let typingTimer: ReturnType<typeof setTimeout> | undefined;
export function sendTyping(conversation: number) {
  const now = Date.now();
  if (now - lastTypingSent < 2000 || live?.readyState !== WebSocket.OPEN) return;
  lastTypingSent = now;
  live.send(JSON.stringify({ type: 'typing', conversation_id: conversation, typing: true }));
}

function onEvent(f: { id?: number; event: string; data?: any }) {
  if (f.event === 'ready') {
    ui.online = true;
    return;
  }
  if (f.event === 'resync') {
    void loadList();
    refreshCountsSoon();
    return;
  }
  if (f.id !== undefined) {
    if (lastEvent === null || f.id > lastEvent) lastEvent = f.id;
    const key = `${f.id}:${f.event}`;
    if (seen.has(key)) return;
    seen.add(key);
  }
  switch (f.event) {
    case 'alert_raised':
      void loadAlertCount();
      break;
    case 'conversation_created':
    case 'conversation_updated': {
      const c = f.data as Conversation;
      const before = list.items.find((x) => x.id === c.id);
      applyConversation(c);
      if (c.assignee_id === me() && before?.assignee_id !== me() && f.event === 'conversation_updated') notifyAssigned(c);
      break;
    }
    case 'message_received':
    case 'message_created':
    case 'message_updated': {
      // `message_received` carries the message with its conversation.
      const m = (f.data?.message ?? f.data) as Message;
      if (f.data?.conversation) applyConversation(f.data.conversation as Conversation);
      if (m.kind === 'incoming' || m.kind === 'outgoing') list.previews[m.conversation_id] = previewOf(m);
      if (m.conversation_id === open.id) {
        const i = open.messages.findIndex((x) => x.id === m.id);
        if (i >= 0) open.messages[i] = m;
        else open.messages = [...open.messages, m];
        if (m.kind === 'incoming') open.typing = null;
      } else if (m.kind === 'incoming' && f.event !== 'message_updated' && !counted.has(m.id)) {
        counted.add(m.id);
        list.unread[m.conversation_id] = (list.unread[m.conversation_id] ?? 0) + 1;
      }
      break;
    }
    case 'contact_created':
    case 'contact_updated': {
      const c = f.data as Contact;
      list.contacts[c.id] = c;
      break;
    }
  }
}

function notifyAssigned(c: Conversation) {
  if (!ui.notify) return;
  const name = list.contacts[c.contact_id]?.name ?? '';
  if ('Notification' in window && Notification.permission === 'granted') new Notification('Ferry', { body: name });
  if (ui.sound) {
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    o.connect(ctx.destination);
    o.frequency.value = 880;
    o.start();
    o.stop(ctx.currentTime + 0.15);
  }
}

export function setNotify(on: boolean) {
  ui.notify = on;
  localStorage.setItem('ferry.notify', on ? '1' : '0');
  if (on && 'Notification' in window && Notification.permission === 'default') void Notification.requestPermission();
}

export function setSound(on: boolean) {
  ui.sound = on;
  localStorage.setItem('ferry.sound', on ? '1' : '0');
}

setInterval(() => (ui.now = Date.now()), 15000);
