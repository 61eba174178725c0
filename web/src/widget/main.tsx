// The buyer chat widget: one <script> tag puts a launcher on the page;
// the chat renders in a shadow root so the shop's CSS and ours never mix.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session, VisitorMessage, WidgetConfig } from '../api/types';
import { isRtl, pickLocale, translate } from '../lib/i18n';
import { linkify } from '../lib/format';
import { widgetMessages } from './messages';
import { caughtUp, emailFailure, mergeMessage, missedReplies, newClientId, sendFailure, stillPending, tooLong, view, type Pending } from './outbox';
import { CSS } from './style';

const script = document.currentScript as HTMLScriptElement | null;
const inbox = script?.dataset.ferryInbox ?? '';
const base = script ? new URL(script.src).origin : location.origin;
const store = (k: string) => `ferry.widget.${inbox}.${k}`;
const LOCALES = Object.keys(widgetMessages);

/** A call the server answered with an error status. */
class Refused extends Error {
  constructor(readonly status: number) {
    super(String(status));
  }
}
const statusOf = (e: unknown) => (e instanceof Refused ? e.status : null);

async function call<T>(method: string, path: string, token: string | null, body?: unknown, raw?: Blob): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers['x-visitor-token'] = token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw) headers['content-type'] = raw.type || 'application/octet-stream';
  const res = await fetch(`${base}/widget/${inbox}${path}`, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  if (!res.ok) throw new Refused(res.status);
  return res.status === 204 ? (undefined as T) : ((await res.json()) as T);
}

/** The visitor's token, once the session is set up. */
let sessionReady: (token: string) => void = () => {};
const session = new Promise<string>((resolve) => (sessionReady = resolve));

/**
 * For the shop's own pages (a "notify me" button on a sold-out product):
 * `FerryWidget.notifyWhenInStock('SKU-1', 'buyer@example.com')` asks Ferry
 * to tell this visitor when the variant is back; the e-mail is needed only
 * before they have written in the chat. Resolves to what they will hear
 * about; rejects with the HTTP status (404: no such SKU, 422: in stock or
 * no e-mail, 429: too many requests).
 */
async function notifyWhenInStock(sku: string, email?: string): Promise<{ title: string }> {
  return call<{ title: string }>('POST', '/stock-subscriptions', await session, email ? { sku, email } : { sku });
}

type SurveyRequest = Extract<VisitorMessage['parts'][number], { type: 'survey' }>['survey'];

/** A satisfaction survey asked inline: a rating, then an optional comment. */
function Survey({ survey, t, answer }: {
  survey: SurveyRequest;
  t: (k: string, v?: Record<string, string>) => string;
  answer: (key: string, body: { rating: number; comment?: string }) => Promise<unknown>;
}) {
  const key = survey.url.split('/').pop() ?? '';
  const saved = Number(localStorage.getItem(store(`csat.${key}`)) ?? 0);
  const [rating, setRating] = useState(saved);
  const [comment, setComment] = useState('');
  const [sent, setSent] = useState(false);
  const [failed, setFailed] = useState(false);
  async function rate(n: number, note?: string) {
    setFailed(false);
    try {
      await answer(key, note ? { rating: n, comment: note } : { rating: n });
      localStorage.setItem(store(`csat.${key}`), String(n));
      setRating(n);
      if (note) setSent(true);
    } catch {
      setFailed(true);
    }
  }
  const choices: [number, string, string][] = survey.scale === 'thumbs'
    ? [[5, '👍', t('thumbs_up')], [1, '👎', t('thumbs_down')]]
    : [1, 2, 3, 4, 5].map((n) => [n, '★', t('rate', { n: String(n) })]);
  return (
    <div class="survey">
      <div>{survey.question}</div>
      <div class={`rating ${survey.scale}`} role="radiogroup" aria-label={survey.question}>
        {choices.map(([n, face, label]) => (
          <button type="button" role="radio" aria-checked={rating === n} aria-label={label} title={label}
            class={(survey.scale === 'thumbs' ? rating === n : rating >= n) ? 'on' : ''} onClick={() => void rate(n)}>{face}</button>
        ))}
      </div>
      {rating > 0 && !sent && (
        <form class="comment" onSubmit={(e) => { e.preventDefault(); if (comment.trim()) void rate(rating, comment.trim()); }}>
          <small>{t('survey_thanks')}</small>
          <textarea rows={2} maxLength={2000} placeholder={t('survey_comment')} aria-label={t('survey_comment')} value={comment}
            onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} />
          <button disabled={!comment.trim()}>{t('send')}</button>
        </form>
      )}
      {sent && <small>{t('survey_thanks')}</small>}
      {failed && <small class="error" role="alert">{t('survey_failed')}</small>}
    </div>
  );
}

function Chat() {
  const [open, setOpen] = useState(localStorage.getItem(store('open')) === '1');
  const [cfg, setCfg] = useState<WidgetConfig | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const [msgs, setMsgs] = useState<VisitorMessage[]>([]);
  const [pending, setPending] = useState<Pending[]>(() => JSON.parse(localStorage.getItem(store('pending')) ?? '[]'));
  const [text, setText] = useState('');
  const [online, setOnline] = useState(false);
  const [typing, setTyping] = useState<string | null>(null);
  const [hasEmail, setHasEmail] = useState(false);
  const [email, setEmail] = useState('');
  const [savedEmail, setSavedEmail] = useState('');
  const [emailError, setEmailError] = useState('');
  const [error, setError] = useState('');
  // Agent replies that arrived while the chat was closed.
  const [unread, setUnread] = useState(0);
  const [preview, setPreview] = useState('');
  const isOpen = useRef(open);
  isOpen.current = open;
  // Ids of the messages this page has shown or counted.
  const seen = useRef(new Set<number>());
  const loaded = useRef(false);
  const [locale, setLocale] = useState(localStorage.getItem(store('locale')) ?? pickLocale(navigator.languages ?? [navigator.language], LOCALES));
  const ws = useRef<WebSocket | null>(null);
  const list = useRef<HTMLDivElement>(null);
  const lastTyping = useRef(0);
  const t = (k: string, v: Record<string, string> = {}) => translate(widgetMessages, locale, k, v);

  useEffect(() => {
    localStorage.setItem(store('pending'), JSON.stringify(pending));
  }, [pending]);

  useEffect(() => {
    void call<WidgetConfig>('GET', '/config', null).then(setCfg);
    void call<Session>('POST', '/sessions', null, { token: localStorage.getItem(store('token')) }).then((s) => {
      localStorage.setItem(store('token'), s.token);
      setHasEmail(s.has_email);
      setToken(s.token);
      sessionReady(s.token);
    });
  }, []);

  async function flush(tok: string, queue: Pending[]) {
    for (const p of queue) {
      try {
        const m = await call<VisitorMessage>('POST', '/messages', tok, { client_id: p.client_id, text: p.text, language: locale });
        setMsgs((l) => mergeMessage(l, m));
      } catch (e) {
        const f = sendFailure(statusOf(e));
        setError(f.key);
        if (f.retry) {
          // Sent again on the next connection (or in a moment when too fast).
          if (f.key === 'too_fast') setTimeout(() => void flush(tok, [p]), 5000);
          return;
        }
        // It can never be taken as it is: back to the composer, not "Sending…" forever.
        setPending((l) => l.filter((x) => x.client_id !== p.client_id));
        setText((cur) => cur || p.text);
      }
    }
  }

  // Reloads the list from the server; replies missed while the chat was
  // closed count as unread (not the history found at the first load).
  async function catchUp(tok: string): Promise<VisitorMessage[]> {
    const server = await call<VisitorMessage[]>('GET', '/messages', tok);
    const missed = loaded.current && !isOpen.current ? missedReplies(seen.current, server) : [];
    loaded.current = true;
    for (const m of server) seen.current.add(m.id);
    if (missed.length) {
      setUnread((n) => n + missed.length);
      setPreview(missed[missed.length - 1].text || '📎');
    }
    setMsgs((live) => caughtUp(live, server));
    return server;
  }

  useEffect(() => {
    if (!token) return;
    let closed = false;
    let retry = 0;
    const connect = () => {
      const s = new WebSocket(`${base.replace(/^http/, 'ws')}/widget/${inbox}/ws?token=${token}`);
      ws.current = s;
      s.onmessage = (e) => {
        const f = JSON.parse(e.data);
        if (f.event === 'ready') {
          retry = 0;
          setOnline(true);
          // Catch up on anything missed while away, then resend the unsent.
          void catchUp(token).then((server) => {
            setPending((p) => {
              const left = stillPending(p, server);
              void flush(token, left);
              return left;
            });
          });
        } else if (f.event === 'resync') {
          // The server could not keep up with this socket: ask for the list.
          void catchUp(token);
        } else if (f.event === 'message_created' || f.event === 'message_updated') {
          if (f.event === 'message_created' && seen.current.has(f.data.id)) {
            // Already counted by a catch-up.
            setMsgs((l) => mergeMessage(l, f.data));
            return;
          }
          seen.current.add(f.data.id);
          setMsgs((l) => mergeMessage(l, f.data));
          if (f.data.kind === 'outgoing') setTyping(null);
          if (f.event === 'message_created' && f.data.kind === 'outgoing' && !isOpen.current) {
            setUnread((n) => n + 1);
            setPreview(f.data.text || '📎');
          }
        } else if (f.event === 'typing') {
          setTyping(f.data.typing ? f.data.who.name ?? '' : null);
        }
      };
      s.onclose = () => {
        setOnline(false);
        if (!closed) setTimeout(connect, Math.min(8000, 300 * 2 ** retry++));
      };
    };
    connect();
    return () => {
      closed = true;
      ws.current?.close();
    };
  }, [token]);

  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [msgs, pending, open, typing]);

  function send(e?: Event) {
    e?.preventDefault();
    const body = text.trim();
    if (!body) return;
    if (tooLong(body)) {
      setError('too_long');
      return;
    }
    setError('');
    const p: Pending = { client_id: newClientId(), text: body, created_at: new Date().toISOString() };
    setPending((l) => [...l, p]);
    setText('');
    lastTyping.current = 0;
    if (token && online) void flush(token, [p]);
  }

  function onInput(v: string) {
    setText(v);
    const now = Date.now();
    if (ws.current?.readyState === WebSocket.OPEN && now - lastTyping.current > 2000) {
      lastTyping.current = now;
      ws.current.send(JSON.stringify({ type: 'typing', typing: true }));
    }
  }

  async function upload(f: File | undefined) {
    if (!f || !token) return;
    const m = await call<VisitorMessage>('POST', `/attachments?client_id=${newClientId()}&filename=${encodeURIComponent(f.name)}`, token, undefined, f);
    setMsgs((l) => mergeMessage(l, m));
  }

  async function leaveEmail(e: Event) {
    e.preventDefault();
    setEmailError('');
    try {
      await call('POST', '/email', token, { email });
    } catch (err) {
      setEmailError(emailFailure(statusOf(err)));
      return;
    }
    setSavedEmail(email);
    setHasEmail(true);
  }

  function quickReply(title: string) {
    setText(title);
    const p: Pending = { client_id: newClientId(), text: title, created_at: new Date().toISOString() };
    setPending((l) => [...l, p]);
    if (token) void flush(token, [p]);
  }

  const toggle = () => {
    localStorage.setItem(store('open'), open ? '0' : '1');
    setOpen(!open);
    setUnread(0);
    setPreview('');
  };
  const shown = view(msgs, pending);
  const fileUrl = (u: string) => `${base}${u}?token=${token}`;
  const dir = isRtl(locale) ? 'rtl' : 'ltr';

  return (
    <div class="root" dir={dir} lang={locale} style={cfg?.color ? `--accent:${cfg.color}` : ''}>
      {open && (
        <div class="panel" role="dialog" aria-label={cfg?.name ?? ''}>
          <header>
            <div>
              <strong>{cfg?.name}</strong>
              {cfg?.office_hours && <small>{t('hours', { hours: cfg.office_hours })}</small>}
            </div>
            <select aria-label={t('language')} value={locale} onChange={(e) => { const v = (e.target as HTMLSelectElement).value; localStorage.setItem(store('locale'), v); setLocale(v); }}>
              {LOCALES.map((l) => <option value={l}>{l.toUpperCase()}</option>)}
            </select>
            <button class="x" aria-label={t('close')} onClick={toggle}>×</button>
          </header>
          <div class="msgs" ref={list}>
            <div class="msg theirs greeting">{cfg?.greeting || t('greeting')}</div>
            {shown.map((m) => (
              <div key={m.key} class={`msg ${m.mine ? 'mine' : 'theirs'}${m.pending ? ' pending' : ''}`} data-author={m.author}>
                {m.parts.map((p) =>
                  p.type === 'text' ? <div>{linkify(p.text).map((x) => (x.href ? <a href={x.href} target="_blank" rel="noreferrer noopener">{x.text}</a> : x.text))}</div>
                  : p.type === 'image' ? <img src={fileUrl(p.attachment.url)} alt={p.attachment.filename ?? ''} />
                  : p.type === 'file' || p.type === 'audio' ? <a href={fileUrl(p.attachment.url)} target="_blank" rel="noreferrer">📎 {p.attachment.filename ?? 'file'}</a>
                  : p.type === 'survey' ? <Survey survey={p.survey} t={t} answer={(key, body) => call('POST', `/csat/${key}`, token, body)} />
                  : p.type === 'buttons' ? (
                    <div><div>{linkify(p.text).map((x) => (x.href ? <a href={x.href} target="_blank" rel="noreferrer noopener">{x.text}</a> : x.text))}</div><div class="qr">{p.buttons.map((b) => <button onClick={() => quickReply(b.title)}>{b.title}</button>)}</div></div>
                  ) : null,
                )}
                {m.pending && <small>{t('sending')}</small>}
              </div>
            ))}
            {typing !== null && <div class="typing">{t('typing', { name: typing || '…' })}</div>}
            {cfg && !cfg.agents_online && !hasEmail && msgs.length > 0 && (
              <form class="email" onSubmit={leaveEmail}>
                <p>{t('offline')}</p>
                <input type="email" required placeholder={t('email')} value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
                <button>{t('save')}</button>
                {emailError && <p class="error" role="alert">{t(emailError)}</p>}
              </form>
            )}
            {savedEmail && <div class="note">{t('saved', { email: savedEmail })}</div>}
          </div>
          {!online && token && <div class="note">{t('reconnecting')}</div>}
          {error && error !== 'reconnecting' && <div class="error" role="alert">{t(error)}</div>}
          <form class="compose" onSubmit={send}>
            <label class="clip" title={t('attach')}>📎<input type="file" hidden onChange={(e) => upload((e.target as HTMLInputElement).files?.[0])} /></label>
            <textarea rows={1} placeholder={t('placeholder')} value={text} aria-label={t('placeholder')}
              onInput={(e) => { setError(''); onInput((e.target as HTMLTextAreaElement).value); }}
              onKeyDown={(e) => { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e); }} />
            <button class="send" disabled={!text.trim()}>{t('send')}</button>
          </form>
        </div>
      )}
      {!open && preview && (
        <button class="bubble" aria-label={t('new_reply')} onClick={toggle}>{preview.length > 120 ? `${preview.slice(0, 117)}…` : preview}</button>
      )}
      <button class="launcher" aria-label={open ? t('close') : t('open')} onClick={toggle}>
        {open ? '×' : '💬'}
        {!open && unread > 0 && <span class="badge" aria-label={t('new_reply')}>{unread}</span>}
      </button>
    </div>
  );
}

if (inbox) {
  const host = document.createElement('div');
  host.id = 'ferry-widget';
  document.body.appendChild(host);
  const root = host.attachShadow({ mode: 'open' });
  const style = document.createElement('style');
  style.textContent = CSS;
  root.appendChild(style);
  const mountPoint = document.createElement('div');
  root.appendChild(mountPoint);
  render(<Chat />, mountPoint);
  (window as unknown as { FerryWidget: unknown }).FerryWidget = { notifyWhenInStock };
}
