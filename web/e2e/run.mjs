// End-to-end: a buyer on the demo shop and an agent in the console, in
// Debian's Chromium driven by playwright-core, against a real `ferry demo`.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createHmac } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../..');
const out = resolve(here, '../test-results');
const LIVE = 1000; // the console and the widget must show new messages within 1 s

function findBinary() {
  const dirs = [process.env.CARGO_TARGET_DIR, join(repo, 'target')].filter(Boolean);
  const candidates = [process.env.E2E_FERRY_BIN, ...dirs.flatMap((d) => [join(d, 'release/ferry'), join(d, 'debug/ferry')])];
  // `ferry demo` runs the `ferry-demo` program next to `ferry`.
  const found = candidates.find((c) => c && existsSync(c) && existsSync(join(dirname(c), 'ferry-demo')));
  if (!found) {
    throw new Error('no ferry binary with ferry-demo beside it: build them with `cargo build -p ferry -p ferry-demo` or set E2E_FERRY_BIN');
  }
  return found;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function startDemo() {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-'));
  const bin = findBinary();
  const proc = spawn(bin, ['demo', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Ferry reads FERRY_* as configuration: give the demo none of the caller's.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRY_'))),
  });
  let log = '';
  proc.stderr.on('data', (d) => (log += d));
  const shop = await new Promise((ok, fail) => {
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`ferry demo printed no shop path in 60 s:\n${buf}\n${log}`)), 60000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /(http:\/\/\S+\/widget\/\d+\/demo)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    proc.once('exit', (code) => fail(new Error(`ferry demo exited with ${code}:\n${buf}\n${log}`)));
  });
  return { base: `http://127.0.0.1:${port}`, shop, proc, dataDir, bin };
}

// RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s steps) of a base32 secret at
// `at` milliseconds: the code an authenticator app shows.
function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, '0');
}

const results = [];
async function check(name, f) {
  const t0 = Date.now();
  try {
    await f();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e.message.split('\n').slice(0, 6).join('\n     ')}`);
    // What the pages' sockets did lately, to tell a late event from a lost one.
    for (const line of frames.slice(-12)) console.log(`     ${line}`);
  }
}

// The last socket frames and closes of every page, with their times.
const frames = [];
function watchSockets(page, who) {
  const t0 = Date.now();
  page.on('websocket', (ws) => {
    const log = (what) => {
      frames.push(`${who} +${Date.now() - t0} ms ${what}`);
      if (frames.length > 200) frames.shift();
    };
    log(`open ${new URL(ws.url()).pathname}`);
    ws.on('framereceived', (f) => log(`got ${String(f.payload).slice(0, 400)}`));
    ws.on('close', () => log('closed'));
  });
}

mkdirSync(out, { recursive: true });
const demo = await startDemo();
console.log(`ferry: ${demo.bin}\nshop:  ${demo.shop}`);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
const run = Date.now().toString(36);
try {
  const agentCtx = await browser.newContext({ viewport: { width: 1440, height: 860 }, locale: 'en-US' });
  const buyerCtx = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US' });
  const agent = await agentCtx.newPage();
  const buyer = await buyerCtx.newPage();
  watchSockets(agent, 'agent');
  watchSockets(buyer, 'buyer');
  // Whatever the Content-Security-Policy blocks on either side: Chromium
  // tells the page (the event) and the console (a message).
  const violations = [];
  for (const [ctx, who] of [[agentCtx, 'agent'], [buyerCtx, 'buyer']]) {
    await ctx.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
      });
    });
    ctx.on('console', (m) => {
      const text = m.text();
      if (/CSP violation|Content Security Policy/i.test(text)) violations.push(`${who}: ${text}`);
    });
  }
  const first = `Hello, where is my parcel? ${run}`;
  // The buyer's row shows their message until the bot answers; then it is
  // found by its id.
  const arriving = agent.locator('[data-conversation]', { hasText: first });
  let row = arriving;

  await check('agent logs in and sees the demo conversations', async () => {
    await agent.goto(demo.base + '/');
    await agent.fill('input[name=email]', 'owner@demo.ferry.test');
    await agent.fill('input[name=password]', 'ferry-demo');
    await agent.click('button[type=submit]');
    await agent.locator('[data-conversation]').first().waitFor({ timeout: 10000 });
    await agent.locator('[data-view=all]').click();
    await agent.locator('.dot.on').waitFor({ timeout: 5000 });
  });

  await check('the Bot tab lists the conversations the bot holds, with their count', async () => {
    await agent.locator('[data-status=bot]').click();
    await agent.waitForFunction(() => location.hash === '#/inbox/bot', null, { timeout: 2000 });
  });

  await check('buyer opens the demo shop and sends a message', async () => {
    await buyer.goto(demo.shop);
    await buyer.locator('.launcher').click();
    await buyer.locator('.compose textarea').fill(first);
    await buyer.keyboard.press('Enter');
    await buyer.locator('.msg.mine:not(.pending)', { hasText: first }).waitFor({ timeout: 5000 });
  });

  await check('the bot answers the buyer first; agent sees the conversation in the Bot tab within 1 s, without reload', async () => {
    await arriving.waitFor({ timeout: LIVE });
    row = agent.locator(`[data-conversation="${await arriving.getAttribute('data-conversation')}"]`);
    // The bot's answer, not the greeting the widget shows by itself.
    await buyer.locator('.msg.theirs[data-author=bot]').first().waitFor({ timeout: 5000 });
    await agent.waitForFunction(() => Number(document.querySelector('[data-status=bot] .n')?.textContent) >= 1, null, { timeout: 2000 });
  });

  const reply = `Hi! Your parcel left our warehouse today. ${run}`;
  await check('agent replies; buyer sees it within 1 s', async () => {
    await row.click();
    await agent.locator('.msg.incoming', { hasText: first }).waitFor({ timeout: 5000 });
    await agent.locator('[data-testid=composer]').fill(reply);
    await agent.locator('[data-testid=composer]').press('Enter');
    await buyer.locator('.msg.theirs', { hasText: reply }).waitFor({ timeout: LIVE });
    await agent.locator('.msg.outgoing', { hasText: reply }).waitFor({ timeout: 2000 });
  });

  await check('buyer typing shows in the console', async () => {
    await buyer.locator('.compose textarea').pressSequentially('Th', { delay: 20 });
    await agent.locator('[data-testid=typing]').waitFor({ timeout: LIVE });
    await buyer.locator('.compose textarea').fill('');
  });

  await check('the shop page asks to tell the buyer when the sold-out DRESS-BLU-M is back; the agent sees it on the contact panel', async () => {
    const asked = await buyer.evaluate(() => window.FerryWidget.notifyWhenInStock('DRESS-BLU-M'));
    if (!/dress/i.test(asked.title)) throw new Error(`asked for ${JSON.stringify(asked)}`);
    const status = await buyer.evaluate(() => window.FerryWidget.notifyWhenInStock('NO-SUCH-SKU').then(() => 200, (e) => Number(e.message)));
    if (status !== 404) throw new Error(`an unknown SKU answered ${status}`);
    // Away and back: the contact panel reads it again.
    await agent.locator('[data-testid=segments-nav]').click();
    await agent.locator('[data-testid=segments-nav]').click();
    await agent.locator('[data-testid=contact-stock] [data-stock="DRESS-BLU-M"][data-open=true]').waitFor({ timeout: 5000 });
  });

  await check('widget closed: an agent reply shows a badge and a preview; a message over 16 KB gets a clear error, not "Sending…"', async () => {
    await buyer.locator('.launcher').click();
    await buyer.locator('.panel').waitFor({ state: 'detached', timeout: 2000 });
    const later = `Your parcel reached the depot: https://track.example/${run}. ${run}`;
    await agent.locator('[data-testid=composer]').fill(later);
    await agent.locator('[data-testid=composer]').press('Enter');
    await buyer.locator('.launcher .badge', { hasText: '1' }).waitFor({ timeout: LIVE });
    await buyer.locator('.bubble', { hasText: later }).click({ timeout: 1000 });
    await buyer.locator('.msg.theirs', { hasText: later }).waitFor({ timeout: 2000 });
    if (await buyer.locator('.launcher .badge').count()) throw new Error('the badge stays after opening');
    // Tracking links are links, on both sides.
    await buyer.locator(`.msg.theirs a[href="https://track.example/${run}"]`).waitFor({ timeout: 1000 });
    await agent.locator(`.msg.outgoing a[href="https://track.example/${run}"]`).waitFor({ timeout: 1000 });
    await buyer.locator('.compose textarea').fill('x'.repeat(17000));
    await buyer.keyboard.press('Enter');
    await buyer.locator('.error', { hasText: '16 KB' }).waitFor({ timeout: 2000 });
    if (await buyer.locator('.msg.pending').count()) throw new Error('the long message waits as "Sending…"');
    await buyer.locator('.compose textarea').fill('');
  });

  let convId = 0;
  await check('a long conversation: the panes scroll on their own, it opens at the newest message with the composer in view, and a reload keeps it open', async () => {
    const id = await agent.evaluate(async (run) => {
      const profile = await (await fetch('/api/v1/profile')).json();
      const id = Number(location.hash.split('/').pop());
      for (let i = 1; i <= 24; i++) {
        await fetch(`/api/v1/accounts/${profile.account_id}/conversations/${id}/messages`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content: `checked step ${i} of the parcel trace ${run}`, private: true }),
        });
      }
      return id;
    }, run);
    if (!id) throw new Error('the URL names no conversation');
    convId = id;
    await agent.reload();
    await agent.locator('.msg.note', { hasText: `checked step 24 of the parcel trace ${run}` }).waitFor({ timeout: 10000 });
    await agent.waitForTimeout(200);
    const m = await agent.evaluate(() => {
      const pane = document.querySelector('.messages');
      const box = document.querySelector('[data-testid=composer]').getBoundingClientRect();
      return {
        page: document.documentElement.scrollHeight, height: innerHeight, composer: box.bottom,
        atEnd: pane.scrollHeight - pane.scrollTop - pane.clientHeight, scrolls: pane.scrollHeight > pane.clientHeight,
        selected: document.querySelector('.row.selected')?.getAttribute('data-conversation'),
      };
    });
    if (m.page > m.height + 1) throw new Error(`the page is ${m.page} px tall in a ${m.height} px window`);
    if (m.composer > m.height) throw new Error(`the composer ends at ${m.composer} px, below the fold`);
    if (!m.scrolls) throw new Error('the message pane does not scroll');
    if (m.atEnd > 4) throw new Error(`opened ${m.atEnd} px above the newest message`);
    if (m.selected !== String(id)) throw new Error(`after reload the open conversation is ${m.selected}, not ${id}`);
  });

  await check('a phone-sized window: no sideways scrolling, the list then the conversation with its composer, the sidebar from ☰', async () => {
    await agent.setViewportSize({ width: 390, height: 844 });
    try {
      const wide = () => agent.evaluate(() => document.documentElement.scrollWidth);
      if ((await wide()) > 390) throw new Error(`the page is ${await wide()} px wide`);
      const box = await agent.locator('[data-testid=composer]').boundingBox();
      if (!box || box.y + box.height > 844 || box.x + box.width > 390) throw new Error(`composer at ${JSON.stringify(box)}`);
      const mine = agent.locator(`[data-conversation="${convId}"]`);
      await agent.locator('[data-testid=back]').click();
      await mine.waitFor({ timeout: 2000 });
      if ((await wide()) > 390) throw new Error(`the list is ${await wide()} px wide`);
      await agent.locator('[data-testid=menu]').click();
      await agent.locator('[data-view=mine]').waitFor({ state: 'visible', timeout: 2000 });
      await agent.screenshot({ path: join(out, 'console-phone.png') });
      await agent.locator('[data-view=all]').click();
      // The agent's reply took the conversation from the bot.
      await agent.locator('[data-status=open]').click();
      await mine.click();
      await agent.locator('[data-testid=composer]').waitFor({ state: 'visible', timeout: 2000 });
    } finally {
      await agent.setViewportSize({ width: 1440, height: 860 });
    }
  });

  await check('screenshots of the console and the widget', async () => {
    await agent.screenshot({ path: join(out, 'console.png') });
    await buyer.screenshot({ path: join(out, 'widget.png') });
  });

  await check('canned response created in settings, inserted with / and variables filled', async () => {
    await agent.locator('[data-testid=settings]').click();
    await agent.locator('[data-tab=canned]').click();
    const form = agent.locator('[data-testid=canned-form]');
    await form.locator('input[name=short_code]').fill('hello');
    await form.locator('textarea[name=content]').fill('Hi {{contact.name}}, thanks for reaching out! How can I help?');
    await form.locator('button.primary').click();
    await agent.locator('tr[data-canned=hello]').waitFor({ timeout: 2000 });
    await agent.locator('[data-testid=settings]').click();
    const box = agent.locator('[data-testid=composer]');
    await box.waitFor({ timeout: 2000 });
    await box.fill('');
    await box.pressSequentially('/hel');
    await agent.locator('.canned [role=option]', { hasText: '/hello' }).waitFor({ timeout: 2000 });
    await box.press('Enter');
    const v = await box.inputValue();
    if (!v.includes('thanks for reaching out')) throw new Error(`composer holds ${JSON.stringify(v)}`);
    if (v.includes('/hel')) throw new Error('the slash command was not replaced');
    // The widget buyer left no name: the greeting reads well without it.
    if (!v.startsWith('Hi, thanks')) throw new Error(`an anonymous buyer gets ${JSON.stringify(v)}`);
    await box.press('Enter');
    await buyer.locator('.msg.theirs', { hasText: 'thanks for reaching out' }).waitFor({ timeout: LIVE });
    // A variable with no value here is never sent as {{…}}.
    await box.fill('Track it here: {{order.tracking_url}}');
    await agent.locator('[data-testid=unfilled]', { hasText: '{{order.tracking_url}}' }).waitFor({ timeout: 2000 });
    if (!(await agent.locator('[data-testid=send]').isDisabled())) throw new Error('Send is enabled with {{order.tracking_url}} unfilled');
    await box.fill('');
  });

  const note = `internal: check the customs status ${run}`;
  await check('a private note stays invisible to the buyer', async () => {
    await agent.locator('[data-mode=note]').click();
    await agent.locator('[data-testid=composer]').fill(note);
    await agent.locator('[data-testid=composer]').press('Enter');
    await agent.locator('.msg.note', { hasText: note }).waitFor({ timeout: 2000 });
    await agent.locator('[data-mode=reply]').click();
    const after = `One more thing: tracking follows by e-mail. ${run}`;
    await agent.locator('[data-testid=composer]').fill(after);
    await agent.locator('[data-testid=composer]').press('Enter');
    await buyer.locator('.msg.theirs', { hasText: after }).waitFor({ timeout: LIVE });
    if ((await buyer.locator('.msgs').innerText()).includes(note)) throw new Error('the buyer can read the note');
    await buyer.reload();
    await buyer.locator('.msg.theirs', { hasText: after }).waitFor({ timeout: 5000 });
    if ((await buyer.locator('.msgs').innerText()).includes(note)) throw new Error('the buyer can read the note after reload');
  });

  await check('assign to me and to a team', async () => {
    await agent.locator('[data-action=assignee]').selectOption({ label: 'Li Wei' });
    await agent.locator('.activity', { hasText: 'Assigned to Li Wei' }).waitFor({ timeout: 2000 });
    await agent.locator('[data-action=assign-me]').click();
    await agent.locator('.activity', { hasText: 'Assigned to Mei Chen' }).waitFor({ timeout: 2000 });
    await agent.locator('[data-action=team]').selectOption({ label: 'After-sales' });
    await agent.locator('.activity', { hasText: 'Team set to After-sales' }).waitFor({ timeout: 2000 });
  });

  await check('tag the conversation', async () => {
    await agent.locator('[data-action=add-tag]').fill('shipping');
    await agent.locator('[data-action=add-tag]').press('Enter');
    await agent.locator('.tag', { hasText: '#shipping' }).waitFor({ timeout: 2000 });
    // The sidebar's tag list follows without a reload.
    await agent.locator('.side .navitem', { hasText: '#shipping' }).waitFor({ timeout: 2000 });
  });

  await check('agent resolves; the buyer rates the help in the widget and the agent sees the rating', async () => {
    await agent.locator('[data-action=resolve]').click();
    await agent.locator('.conv .status', { hasText: 'Resolved' }).waitFor({ timeout: 2000 });
    await agent.locator('[data-testid=survey]').waitFor({ timeout: 5000 });
    const survey = buyer.locator('.survey');
    await survey.waitFor({ timeout: 5000 });
    await survey.locator('.rating button').nth(3).click();
    await survey.locator('.rating button.on').nth(3).waitFor({ timeout: 2000 });
    await survey.locator('textarea').fill(`Fast answer ${run}`);
    await survey.locator('.comment button').click();
    await agent.locator('.activity', { hasText: `Buyer rated the help 4/5: “Fast answer ${run}”` }).waitFor({ timeout: 3000 });
  });

  await check('a new buyer message reopens the resolved conversation, to the bot of this inbox, within 1 s', async () => {
    const again = `Sorry, one more question ${run}`;
    await buyer.locator('.compose textarea').fill(again);
    await buyer.keyboard.press('Enter');
    await agent.locator('.msg.incoming', { hasText: again }).waitFor({ timeout: LIVE });
    await agent.locator('.conv .status', { hasText: 'Bot' }).waitFor({ timeout: LIVE });
  });

  await check('search finds the message, highlighted, and opens it', async () => {
    // Every word must match, in any form: the buyer's first message is the
    // one with all of them (replies and notes mention the parcel too).
    await agent.locator('.search').fill(`where is my parcel ${run}`);
    const hit = agent.locator('[data-testid=search-results] [data-message]', { hasText: run }).first();
    await hit.waitFor({ timeout: 3000 });
    const marked = await hit.locator('mark').allInnerTexts();
    if (!marked.some((m) => m.toLowerCase().includes('parcel'))) throw new Error(`highlighted ${JSON.stringify(marked)}`);
    await hit.click();
    await agent.locator('.msg.incoming.focus', { hasText: first }).waitFor({ timeout: 3000 });
  });

  // The demo connects a Shopify shop whose seeded orders belong to the seeded
  // buyers (#1001 is Emma's, late and in transit); the widget buyer has none.
  await check('contact panel lists the contact\'s orders: none for the widget buyer, #1001 with tracking and delivery promise', async () => {
    await agent.locator('[data-testid=orders-empty]', { hasText: "No orders found for this contact's e-mail or phone" }).waitFor({ timeout: 5000 });
    await agent.locator('.search').fill('where is my order #1001');
    await agent.locator('[data-testid=search-results] [data-message]').first().click({ timeout: 3000 });
    const panel = agent.locator('[data-testid=orders]');
    const order = panel.locator('[data-order="#1001"]');
    await order.waitFor({ timeout: 5000 });
    const badge = (await order.locator('[data-state]').innerText()).trim();
    if (!badge || badge.includes('.')) throw new Error(`state badge ${JSON.stringify(badge)}`);
    const link = order.locator('a[data-tracking]').first();
    const href = await link.getAttribute('href');
    if (!href?.startsWith('https://') || !href.includes(await link.innerText())) throw new Error(`tracking link ${href}`);
    const promise = await order.locator('[data-promise]').first().innerText();
    if (!/Delivery (was )?promised/.test(promise)) throw new Error(`delivery promise ${JSON.stringify(promise)}`);
    if (!/×\s*\d/.test(await order.innerText())) throw new Error('no items');
    await agent.screenshot({ path: join(out, 'console-orders.png') });
    // A canned response fills the order's tracking link from the shop.
    await agent.evaluate(async () => {
      const profile = await (await fetch('/api/v1/profile')).json();
      await fetch(`/api/v1/accounts/${profile.account_id}/canned_responses`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ short_code: 'track', content: 'Your parcel: {{order.tracking_url}}' }),
      });
    });
    const box = agent.locator('[data-testid=composer]');
    await box.fill('');
    await box.pressSequentially('/track');
    await agent.locator('.canned [role=option]', { hasText: '/track' }).waitFor({ timeout: 2000 });
    await box.press('Enter');
    const filled = await box.inputValue();
    if (!filled.startsWith('Your parcel: https://')) throw new Error(`the composer holds ${JSON.stringify(filled)}`);
    await box.fill('');
  });

  // The demo's shop connection has webhooks but no Admin API access: the
  // order card says why it offers no actions instead of showing buttons.
  await check('order actions: a shop without Admin API access says so on the order card', async () => {
    const order = agent.locator('[data-testid=orders] [data-order="#1001"]');
    await order.locator('[data-actions-note]', { hasText: 'no Admin API access' }).waitFor({ timeout: 5000 });
    if (await order.locator('[data-action]').count()) throw new Error('action buttons shown for a shop that allows none');
  });

  await check('order lookup in the search box opens the order', async () => {
    // Found by a part of its tracking number, the match marked.
    await agent.locator('.search').fill('JJD0040001');
    const hit = agent.locator('[data-testid=search-results] [data-order-hit="#1001"]');
    await hit.locator('mark').first().waitFor({ timeout: 3000 });
    await agent.locator('.search').fill('1001');
    await agent.locator('[data-testid=search-results] [data-order-hit="#1001"]').click({ timeout: 3000 });
    await agent.locator('[data-testid=order-dialog] [data-order="#1001"] a[data-tracking]').waitFor({ timeout: 3000 });
    await agent.keyboard.press('Escape');
    await agent.locator('[data-testid=order-dialog]').waitFor({ state: 'detached', timeout: 2000 });
    await agent.locator('.search').fill('');
  });

  await check('Alerts: the demo shop\'s DRESS-BLU-M stock-out and late order #1001, acknowledged from the console', async () => {
    const badge = await agent.locator('[data-testid=alert-count]').innerText({ timeout: 5000 });
    if (!(Number(badge) >= 2)) throw new Error(`the nav badge shows ${JSON.stringify(badge)} open alerts`);
    await agent.locator('[data-testid=alerts-nav]').click();
    const page = agent.locator('[data-testid=alerts]');
    const stockOut = page.locator('[data-alert="out_of_stock:DRESS-BLU-M"]');
    await stockOut.waitFor({ timeout: 5000 });
    const facts = await stockOut.innerText();
    if (!/Stock: 0/.test(facts) || !/asking about it: [1-9]/.test(facts)) throw new Error(`stock-out facts ${JSON.stringify(facts)}`);
    const late = page.locator('[data-kind=late_order]', { hasText: '#1001' });
    await late.waitFor({ timeout: 2000 });
    const lateText = await late.innerText();
    if (!/Not delivered: 7 days past the delivery estimate/.test(lateText)) throw new Error(`#1001 facts ${JSON.stringify(lateText)}`);
    await page.locator('[data-kind=low_stock]').first().waitFor({ timeout: 2000 });
    await page.locator('[data-kind=carrier_delay]').first().waitFor({ timeout: 2000 });
    await late.locator('[data-open-order="#1001"]').click();
    await late.locator('[data-order="#1001"]').waitFor({ timeout: 3000 });
    await agent.screenshot({ path: join(out, 'console-alerts.png') });
    await late.locator('[data-action=acknowledge]').click();
    await page.locator('[data-tab=acknowledged]').click();
    await page.locator('[data-kind=late_order][data-status=acknowledged]', { hasText: '#1001' }).waitFor({ timeout: 3000 });
    await page.locator('[data-testid=run-detectors]').click();
    await page.locator('[data-testid=run-result]').waitFor({ timeout: 10000 });
    await agent.locator('[data-testid=alerts-nav]').click();
  });

  await check('Settings → Shops: connect a Shopify shop, its secret shown once, webhook URL listed', async () => {
    const domain = `e2e-${run}.myshopify.com`;
    await agent.locator('[data-testid=settings]').click();
    await agent.locator('[data-tab=shops]').click();
    const form = agent.locator('[data-testid=shop-form]');
    await form.waitFor({ timeout: 5000 });
    await agent.locator('[data-shop] [data-webhook]').first().waitFor({ timeout: 2000 });
    await form.locator('input[name=name]').fill(`E2E shop ${run}`);
    await form.locator('input[name=shop_domain]').fill(domain);
    await form.locator('button.primary').click();
    const secret = (await agent.locator('[data-testid=shop-secret] [data-secret]').innerText({ timeout: 3000 })).trim();
    if (secret.length < 16) throw new Error(`secret ${JSON.stringify(secret)}`);
    const hook = await agent.locator(`[data-shop="${domain}"] [data-webhook]`).innerText({ timeout: 2000 });
    if (!/\/webhooks\/shopify\/\d+$/.test(hook.trim())) throw new Error(`webhook URL ${JSON.stringify(hook)}`);
    await agent.screenshot({ path: join(out, 'console-shops.png') });
    await agent.locator('[data-testid=shop-secret] button.primary').click();
    await agent.locator('[data-tab=inboxes]').click();
    await agent.locator('[data-tab=shops]').click();
    await agent.locator(`[data-shop="${domain}"]`).waitFor({ timeout: 3000 });
    if ((await agent.locator('[data-testid=shops]').innerText()).includes(secret)) throw new Error('the secret is shown again');
    await agent.locator('[data-testid=settings]').click();
  });

  await check('Settings → Shops: an admin gives a webhook-only shop Admin API access', async () => {
    await agent.locator('[data-testid=settings]').click();
    await agent.locator('[data-tab=shops]').click();
    const card = agent.locator(`[data-shop="e2e-${run}.myshopify.com"]`);
    await card.locator('[data-edit-access]').click({ timeout: 5000 });
    const form = card.locator('[data-testid=access-form]');
    await form.locator('input[name=api_url]').fill(`https://e2e-${run}.myshopify.com/admin/api/2024-07`);
    await form.locator('input[name=access_token]').fill('shpat_e2e_token');
    await form.locator('button.primary').click();
    await form.waitFor({ state: 'detached', timeout: 3000 });
    const line = await card.locator('[data-api-access]').innerText();
    if (!line.includes('/admin/api/2024-07') || !line.includes('access token set')) throw new Error(`access line: ${line}`);
    if (line.includes('shpat_e2e_token')) throw new Error('the token is shown');
    await agent.locator('[data-testid=settings]').click();
  });

  await check('Settings → Shops: a file-import shop takes an order CSV and lists the rejected row with its reason', async () => {
    await agent.locator('[data-testid=settings]').click();
    await agent.locator('[data-tab=shops]').click();
    const form = agent.locator('[data-testid=shop-form]');
    await form.waitFor({ timeout: 5000 });
    const site = `own-${run}.example`;
    await form.locator('select[name=platform]').selectOption('import');
    await form.locator('input[name=name]').fill(`Own site ${run}`);
    await form.locator('input[name=shop_domain]').fill(site);
    await form.locator('button.primary').click();
    const imp = agent.locator('[data-testid=import-form]');
    await imp.waitFor({ timeout: 3000 });
    const csv = [
      'Name,Email,Currency,Created at,Lineitem sku,Lineitem name,Lineitem quantity,Lineitem price',
      `#E${run}-1,buyer-${run}@example.com,EUR,2026-02-20,DRESS-BLU-M,Linen Dress,1,79.00`,
      `#E${run}-2,other-${run}@example.com,EUR,2026-02-21,TEA-1,Jasmine Tea,two,12.50`,
    ].join('\n');
    await imp.locator('input[name=file]').setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await imp.locator('button.primary').click();
    const rep = agent.locator('[data-testid=import-report]');
    await rep.waitFor({ timeout: 5000 });
    if ((await rep.getAttribute('data-accepted')) !== '1' || (await rep.getAttribute('data-rejected')) !== '1') {
      throw new Error(`report: ${await rep.innerText()}`);
    }
    const line = await rep.locator('[data-rejected-line="3"]').innerText();
    if (!line.includes('quantity "two"')) throw new Error(`rejected row: ${line}`);
    await agent.screenshot({ path: join(out, 'console-shop-import.png') });
    await agent.locator('.search').fill(`E${run}-1`);
    await agent.locator(`[data-testid=search-results] [data-order-hit="#E${run}-1"]`).waitFor({ timeout: 3000 });
    await agent.locator('.search').fill('');
    await agent.locator('[data-testid=settings]').click();
  });

  await check('owner opens Settings → Audit log', async () => {
    await agent.locator('[data-testid=settings]').click();
    await agent.locator('[data-tab=audit]').click();
    const log = agent.locator('[data-testid=audit-log]');
    await log.waitFor({ timeout: 5000 });
    await log.locator('table, p', { hasText: /Nothing recorded yet|Outcome/ }).first().waitFor({ timeout: 5000 });
    await agent.locator('[data-testid=settings]').click();
  });

  const intentName = `gift_wrap_${run}`;
  const intentForm = agent.locator('[data-testid=intent-form]');
  await check('owner adds a bot intent with examples, retrains, and the tester finds it', async () => {
    await agent.locator('[data-testid=bot-nav]').click();
    await agent.locator('tr[data-intent=order_status]').waitFor({ timeout: 10000 });
    await agent.locator('[data-testid=new-intent]').click();
    await intentForm.locator('input[name=name]').fill(intentName);
    await intentForm.locator('input[name=description]').fill('Gift wrapping');
    await intentForm.locator('[data-lang=en]').click();
    await intentForm.locator('textarea[name=examples-en]').fill([
      'Can you gift wrap my order?', 'Do you offer gift wrapping?', 'Is gift wrapping available?', 'Please wrap it as a gift',
      'Can I add gift wrap and a card?', 'gift wrap please', 'Do you wrap presents?', 'I want this wrapped as a present',
    ].join('\n'));
    await intentForm.locator('textarea[name=answer-en]').fill('Yes {{contact.name}}, we gift wrap every order for free.');
    await intentForm.locator('button.primary').click();
    await agent.locator('.bot [role=status]').waitFor({ timeout: 5000 });
    await intentForm.locator('button', { hasText: 'Cancel' }).click();
    await agent.locator('.bot input[type=search]').fill('gift wrap');
    const cell = await agent.locator(`tr[data-intent=${intentName}] td.num`).first().innerText({ timeout: 2000 });
    if (cell.trim() !== '8✓') throw new Error(`the list shows ${JSON.stringify(cell)} for English`);
    await agent.locator('[data-testid=retrain]').click();
    const report = await agent.locator('[data-testid=train-report]').innerText({ timeout: 30000 });
    if (!/^Trained \d+ intents, \d+ examples and \d+ FAQ entries in [\d.]+ s\.$/.test(report)) throw new Error(`report ${JSON.stringify(report)}`);
    const form = agent.locator('[data-testid=test-form]');
    await form.locator('textarea[name=sentence]').fill('Could you gift wrap it for me?');
    await form.locator('button.primary').click();
    await form.locator('[data-testid=test-result] [data-field=intent]', { hasText: intentName }).waitFor({ timeout: 10000 });
    const decision = await form.locator('[data-field=decision]').innerText();
    if (!decision.trim()) throw new Error('no decision in words');
    await agent.screenshot({ path: join(out, 'console-bot.png') });
  });

  await check('bot editor shows a broken template next to its field and a stale version as a conflict', async () => {
    await agent.locator(`tr[data-intent=${intentName}]`).click();
    await intentForm.locator('textarea[name=answer-en]').fill('Your order is {{ order.status');
    await intentForm.locator('button.primary').click();
    await intentForm.locator('.ferr').waitFor({ timeout: 5000 });
    // Someone else saves meanwhile: our next save is a conflict until we reload.
    const status = await agent.evaluate(async (name) => {
      const profile = await (await fetch('/api/v1/profile')).json();
      const base = `/api/v1/accounts/${profile.account_id}/bot`;
      const { document, version } = await (await fetch(base)).json();
      const intent = document.intents.find((i) => i.name === name);
      const res = await fetch(`${base}/intents/${name}?version=${version}`, {
        method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...intent, description: 'Changed elsewhere' }),
      });
      return res.status;
    }, intentName);
    if (status !== 200) throw new Error(`the concurrent save answered ${status}`);
    await intentForm.locator('textarea[name=answer-en]').fill('We gift wrap for free.');
    await intentForm.locator('button.primary').click();
    await agent.locator('[data-testid=conflict]').waitFor({ timeout: 5000 });
    await agent.locator('[data-testid=conflict] button').click();
    await intentForm.locator('button.primary').click();
    await agent.locator('.bot [role=status]').waitFor({ timeout: 5000 });
    await agent.locator('[data-testid=bot-nav]').click();
  });

  await check('Settings → Inboxes: an e-mail inbox is added, its password shown only as set, and Test connection says what failed', async () => {
    const closed = await freePort();
    await agent.locator('[data-testid=settings]').click();
    await agent.locator('[data-tab=inboxes]').click();
    await agent.locator('[data-testid=new-inbox-channel]').selectOption('email');
    const form = agent.locator('[data-email-form=new]');
    await form.locator('input[name=name]').fill(`Mail ${run}`);
    await form.locator('input[name=address]').fill(`support-${run}@shop.example`);
    await form.locator('input[name=imap_on]').check();
    await form.locator('input[name=imap_host]').fill('127.0.0.1');
    await form.locator('input[name=imap_port]').fill(String(closed));
    await form.locator('select[name=imap_security]').selectOption('plain');
    await form.locator('input[name=imap_username]').fill('support');
    await form.locator('input[name=imap_password]').fill(`pw-${run}`);
    await form.locator('button.primary').click();
    const card = agent.locator('.card', { hasText: `Mail ${run}` });
    await card.locator('[data-password-set=imap]').waitFor({ timeout: 3000 });
    if ((await agent.locator('.admin').innerHTML()).includes(`pw-${run}`)) throw new Error('the password is in the page');
    await card.locator('[data-testid=test-connection]').click();
    const imap = card.locator('[data-check=imap][data-ok=false]');
    await imap.waitFor({ timeout: 15000 });
    const said = await imap.innerText();
    if (!said.includes(`could not reach 127.0.0.1:${closed}`)) throw new Error(`the check said ${JSON.stringify(said)}`);
    if (!(await card.locator('[data-check=smtp]').innerText()).includes('not set')) throw new Error('SMTP should be not set');
    await agent.screenshot({ path: join(out, 'console-email-inbox.png') });
    await agent.locator('[data-testid=settings]').click();
  });

  await check('Settings → Inboxes: the web chat is limited to the sites listed; other sites are refused, the shop page still works', async () => {
    const inbox = demo.shop.split('/').at(-2);
    await agent.locator('[data-testid=settings]').click();
    await agent.locator('[data-tab=inboxes]').click();
    const form = agent.locator(`[data-inbox-settings="${inbox}"]`);
    await form.locator('[data-testid=allowed-origins]').fill('https://shop.example');
    await form.locator('button', { hasText: 'Save' }).click();
    await form.locator('[role=status]').waitFor({ timeout: 3000 });
    const from = (origin) => fetch(`${demo.base}/widget/${inbox}/config`, { headers: { origin } }).then((r) => r.status);
    if ((await from('https://evil.example')) !== 403) throw new Error('another site may use the chat');
    if ((await from('https://shop.example')) !== 200) throw new Error('the listed site is refused');
    if ((await from(demo.base)) !== 200) throw new Error("Ferry's own demo page is refused");
    await form.locator('[data-testid=allowed-origins]').fill('');
    await form.locator('button', { hasText: 'Save' }).click();
    await form.locator('[role=status]').waitFor({ timeout: 3000 });
    if ((await from('https://evil.example')) !== 200) throw new Error('clearing the list does not open the chat to any site again');
    await agent.locator('[data-testid=settings]').click();
  });

  await check('an Amazon buyer\'s e-mail shows subject, sender, order and quoted text; a reply with a link is blocked, a clean one is not', async () => {
    // An e-mail inbox that receives forwarded mail, made through the API.
    const inbox = await agent.evaluate(async (run) => {
      const profile = await (await fetch('/api/v1/profile')).json();
      const res = await fetch(`/api/v1/accounts/${profile.account_id}/inboxes`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Amazon DE ${run}`, channel: 'email', config: { email: { address: `amazon-${run}@shop.example` } } }),
      });
      return res.json();
    }, run);
    if (!inbox.secret) throw new Error(`inbox ${JSON.stringify(inbox)}`);
    const subject = `Frage zur Bestellung 302-1234567-7654321 ${run}`;
    const raw = Buffer.from(
      `From: "Jürgen - Amazon Marketplace" <k3x9q2${run}@marketplace.amazon.de>\r\nTo: amazon-${run}@shop.example\r\n` +
      `Subject: ${subject}\r\nMessage-ID: <${run}@marketplace.amazon.de>\r\nDate: Fri, 4 Dec 2026 10:00:00 +0000\r\n` +
      'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
      `Wo ist mein Paket? ${run}\r\n\r\nAm 1. Dezember 2026 schrieb Shop:\r\n> Ihre Bestellung wurde versandt.\r\n`,
    );
    const signature = 'sha256=' + createHmac('sha256', inbox.secret).update(raw).digest('hex');
    const res = await fetch(`${demo.base}/webhooks/email/${inbox.id}`, {
      method: 'POST', headers: { 'content-type': 'message/rfc822', 'x-ferry-signature': signature }, body: raw,
    });
    const ack = await res.json();
    if (!res.ok || !ack.conversation_id) throw new Error(`the webhook answered ${res.status} ${JSON.stringify(ack)}`);
    await agent.locator('[data-view=all]').click();
    await agent.locator(`[data-conversation="${ack.conversation_id}"]`).click({ timeout: 5000 });
    const msg = agent.locator('.msg[data-email]', { hasText: `Wo ist mein Paket? ${run}` });
    await msg.waitFor({ timeout: 5000 });
    if ((await msg.locator('[data-testid=email-subject]').innerText()) !== subject) throw new Error('no subject');
    if (!(await msg.locator('[data-testid=email-header]').innerText()).includes(`k3x9q2${run}@marketplace.amazon.de`)) throw new Error('no sender');
    await msg.locator('[data-testid=amazon-order]', { hasText: '302-1234567-7654321' }).waitFor({ timeout: 1000 });
    if ((await msg.innerText()).includes('versandt')) throw new Error('the quote shows before it is asked for');
    await msg.locator('[data-testid=toggle-quoted]').click();
    await msg.locator('[data-testid=email-text]', { hasText: 'Ihre Bestellung wurde versandt.' }).waitFor({ timeout: 1000 });

    const box = agent.locator('[data-testid=composer]');
    const send = agent.locator('[data-testid=send]');
    await box.fill(`Sie finden die Sendung hier: https://track.example/${run}`);
    await agent.locator('[data-testid=compliance] [data-rule="amazon.external_link"][data-severity=block]').waitFor({ timeout: 3000 });
    await agent.locator('[data-testid=compliance-preview] mark.block', { hasText: `https://track.example/${run}` }).waitFor({ timeout: 1000 });
    await agent.locator('[data-testid=send-blocked]').waitFor({ timeout: 1000 });
    if (!(await send.isDisabled())) throw new Error('Send is enabled for a blocked reply');
    await agent.screenshot({ path: join(out, 'console-compliance.png') });
    await box.fill('Ihr Paket ist unterwegs und kommt morgen an.');
    await agent.locator('[data-testid=compliance]').waitFor({ state: 'detached', timeout: 3000 });
    await agent.waitForFunction(() => !document.querySelector('[data-testid=send]')?.hasAttribute('disabled'), null, { timeout: 3000 });
    await box.fill('');
  });

  // The demo's WhatsApp inbox talks to a stand-in for Meta's Graph API. One
  // buyer wrote 2 hours ago (free-form replies allowed), one 30 hours ago:
  // only an approved template can go there.
  const whatsapp = await agent.evaluate(async () => {
    const profile = await (await fetch('/api/v1/profile')).json();
    const a = `/api/v1/accounts/${profile.account_id}`;
    const inbox = (await (await fetch(`${a}/inboxes`)).json()).find((i) => i.channel === 'whatsapp');
    if (!inbox) return null;
    const { data } = await (await fetch(`${a}/conversations?inbox_id=${inbox.id}&limit=50`)).json();
    const age = (c) => (c.last_buyer_message_at ? Date.now() - Date.parse(c.last_buyer_message_at) : Infinity);
    const day = 24 * 3600 * 1000;
    const closed = data.find((c) => age(c) > day);
    const buyer = closed && (await (await fetch(`${a}/contacts/${closed.contact_id}`)).json());
    return {
      inbox: inbox.id, open: data.find((c) => age(c) < day - 3600 * 1000)?.id, closed: closed?.id,
      buyer: buyer && { name: buyer.name, number: buyer.identities.find((i) => i.kind === 'whatsapp')?.value },
    };
  });
  if (!whatsapp) console.log('skip WhatsApp: the demo has no WhatsApp inbox');
  else {
    await check('WhatsApp: the reply window counts down; past it, a template is filled, previewed, sent and delivered', async () => {
      if (!whatsapp.open || !whatsapp.closed) throw new Error(`demo WhatsApp conversations ${JSON.stringify(whatsapp)}`);
      const nav = agent.locator('.navitem', { hasText: 'WhatsApp' }).first();
      await nav.click();
      await agent.locator(`[data-conversation="${whatsapp.open}"]`).click({ timeout: 5000 });
      const left = await agent.locator('[data-testid=reply-window][data-open=true]').innerText({ timeout: 3000 });
      if (!/Reply window: (\d+ h )?\d+ min left/.test(left)) throw new Error(`reply window ${JSON.stringify(left)}`);
      await agent.locator('[data-testid=composer]').waitFor({ timeout: 1000 });
      await agent.locator(`[data-conversation="${whatsapp.closed}"]`).click({ timeout: 5000 });
      await agent.locator('[data-testid=reply-window][data-open=false]').waitFor({ timeout: 3000 });
      if (await agent.locator('[data-testid=composer]').count()) throw new Error('the free-text composer is shown past the window');
      const picker = agent.locator('[data-testid=template-picker]');
      const select = picker.locator('[data-testid=template-select]');
      await select.locator('option[value="order_update|en_US"]').waitFor({ state: 'attached', timeout: 5000 });
      if (await select.locator('option[value^="summer_sale|"]').count()) throw new Error('a rejected template is offered');
      await select.selectOption('order_update|en_US');
      await picker.locator('input[name=body_1] + select').selectOption('{{contact.name}}');
      await picker.locator('input[name=body_2]').fill(`#E2E-${run}`);
      await picker.locator('input[name=body_3]').fill('Friday');
      for (const input of await picker.locator('input[name^=button_]').all()) await input.fill('1001');
      const preview = await picker.locator('[data-testid=template-preview]').innerText();
      if (!preview.includes(`your order #E2E-${run} has shipped and should arrive by Friday.`)) throw new Error(`preview ${JSON.stringify(preview)}`);
      await picker.locator('[data-testid=template-send]').click();
      const sent = agent.locator('.msg.outgoing', { hasText: `#E2E-${run}` });
      await sent.locator('[data-testid=template-label]', { hasText: 'order_update (en_US)' }).waitFor({ timeout: 5000 });
      // The stand-in reports sent, then delivered; the ticks follow live.
      await sent.locator('[data-delivery=delivered], [data-delivery=read]').first().waitFor({ timeout: 10000 });
      await agent.screenshot({ path: join(out, 'console-whatsapp.png') });
    });

    await check('WhatsApp: the buyer writes again through the stand-in; the window reopens and the composer returns', async () => {
      if (!whatsapp.buyer?.number) throw new Error(`no WhatsApp number for the buyer ${JSON.stringify(whatsapp.buyer)}`);
      const text = `Thanks, got it ${run}`;
      const res = await fetch(`${demo.base}/sandbox/whatsapp`, {
        method: 'POST', redirect: 'manual', body: new URLSearchParams({ from: whatsapp.buyer.number, name: whatsapp.buyer.name, text }),
      });
      if (res.status >= 400) throw new Error(`the stand-in answered ${res.status}`);
      await agent.locator('.msg.incoming', { hasText: text }).waitFor({ timeout: 5000 });
      await agent.locator('[data-testid=reply-window][data-open=true]').waitFor({ timeout: 3000 });
      await agent.locator('[data-testid=composer]').waitFor({ timeout: 1000 });
      if (await agent.locator('[data-testid=template-picker]').count()) throw new Error('the template picker stays after the buyer wrote');
    });

    await check('WhatsApp: Settings shows the webhook URL and the connection check passes; Failed deliveries opens', async () => {
      await agent.locator('[data-testid=settings]').click();
      const form = agent.locator(`[data-whatsapp-form="${whatsapp.inbox}"]`);
      await form.waitFor({ timeout: 5000 });
      const hook = (await form.locator('[data-testid=whatsapp-webhook]').innerText()).trim();
      if (hook !== `${demo.base}/webhooks/whatsapp/${whatsapp.inbox}`) throw new Error(`webhook URL ${JSON.stringify(hook)}`);
      await form.locator('[data-secret-set=access_token]').waitFor({ timeout: 1000 });
      if (await form.locator('input[name=access_token]').inputValue()) throw new Error('the access token is shown');
      await form.locator('[data-testid=whatsapp-check]').click();
      await form.locator('[data-testid=whatsapp-check-result][data-ok=true]').waitFor({ timeout: 10000 });
      await agent.locator('[data-testid=settings]').click();
      await agent.locator('[data-testid=deliveries-nav]').click();
      await agent.locator('[data-testid=deliveries] table, [data-testid=deliveries-empty]').first().waitFor({ timeout: 5000 });
      await agent.locator('[data-testid=deliveries-nav]').click();
    });
  }

  await check('Messenger, Instagram, Telegram and SMS: Settings shows each inbox\'s form without its secrets, and the connection checks pass', async () => {
    const inboxes = await agent.evaluate(async () => {
      const profile = await (await fetch('/api/v1/profile')).json();
      const list = await (await fetch(`/api/v1/accounts/${profile.account_id}/inboxes`)).json();
      return list.map((i) => ({ id: i.id, channel: i.channel }));
    });
    await agent.locator('[data-testid=settings]').click();
    for (const channel of ['messenger', 'instagram', 'telegram', 'sms']) {
      const form = agent.locator(`[data-channel-form^="${channel}:"]`).first();
      await form.waitFor({ timeout: 5000 });
      const id = (await form.getAttribute('data-channel-form')).split(':')[1];
      if (!inboxes.some((i) => String(i.id) === id && i.channel === channel)) throw new Error(`${channel} form for inbox ${id}`);
      if (channel === 'messenger' || channel === 'instagram') {
        const hook = (await form.locator(`[data-testid=${channel}-webhook]`).innerText()).trim();
        if (hook !== `${demo.base}/webhooks/${channel}/${id}`) throw new Error(`${channel} webhook URL ${JSON.stringify(hook)}`);
      }
      const secret = { messenger: 'access_token', instagram: 'access_token', telegram: 'bot_token', sms: 'auth_token' }[channel];
      await form.locator(`[data-secret-set=${secret}]`).waitFor({ timeout: 1000 });
      if (await form.locator(`input[name=${secret}]`).inputValue()) throw new Error(`the ${channel} secret is shown`);
      await form.locator(`[data-testid=${channel}-check]`).click();
      await form.locator(`[data-testid=${channel}-check-result][data-ok=true]`).waitFor({ timeout: 10000 });
    }
    await agent.screenshot({ path: join(out, 'console-channels.png') });
    await agent.locator('[data-testid=settings]').click();
  });

  await check('Settings → Notices: the shipped notice is turned on; a Shopify shipment then shows in the log once', async () => {
    await agent.locator('[data-testid=settings]').click();
    await agent.locator('[data-tab=notices]').click();
    const shipped = agent.locator('[data-notice=shipped]');
    await shipped.waitFor({ timeout: 5000 });
    await shipped.locator('input[name=enabled]').check();
    if (!(await shipped.locator('input[data-channel=whatsapp]').isChecked())) await shipped.locator('input[data-channel=whatsapp]').check();
    await agent.locator('[data-testid=notices-save]').click();
    await agent.locator('[data-testid=notices] .ok').waitFor({ timeout: 3000 });
    // A shop with a buyer's order, then its shipment, twice (a re-delivery).
    const shop = await agent.evaluate(async (run) => {
      const profile = await (await fetch('/api/v1/profile')).json();
      const r = await fetch(`/api/v1/accounts/${profile.account_id}/shop_connections`, {
        method: 'POST', headers: { 'content-type': 'application/json', origin: location.origin },
        body: JSON.stringify({ name: `Notices ${run}`, shop_domain: `notices-${run}.myshopify.com` }),
      });
      return r.json();
    }, run);
    if (!shop.secret) throw new Error(`shop ${JSON.stringify(shop)}`);
    const post = async (topic, id, body) => {
      const raw = JSON.stringify(body);
      const res = await fetch(`${demo.base}/webhooks/shopify/${shop.id}`, {
        method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'x-shopify-topic': topic,
          'x-shopify-webhook-id': id, 'x-shopify-hmac-sha256': createHmac('sha256', shop.secret).update(raw).digest('base64') },
      });
      if (res.status !== 200) throw new Error(`${topic}: ${res.status} ${await res.text()}`);
    };
    const now = new Date().toISOString();
    await post('orders/create', `o-${run}`, { id: 88001, name: '#8801', order_number: 8801, email: `notice-${run}@example.com`,
      phone: '+34 611 222 333', currency: 'EUR', total_price: '20.00', financial_status: 'paid', created_at: now, updated_at: now,
      shipping_address: { name: 'Marta Gil', address1: 'Calle 2', city: 'Sevilla', zip: '41001', country_code: 'ES' },
      line_items: [{ id: 1, product_id: 1, variant_id: 1, sku: 'E2E', title: 'E2E', quantity: 1, price: '20.00' }] });
    const shipment = { id: 99001, order_id: 88001, status: 'success', tracking_company: 'UPS', tracking_number: '1Z-E2E',
      tracking_url: 'https://track.example/1Z-E2E', created_at: now, updated_at: now };
    await post('fulfillments/create', `f-${run}`, shipment);
    await post('fulfillments/update', `f2-${run}`, shipment);
    await agent.locator('[data-testid=notices] h3 button').click();
    const rows = agent.locator('[data-testid=notices-log] tr[data-state]');
    await rows.first().waitFor({ timeout: 5000 });
    if ((await rows.count()) !== 1) throw new Error(`${await rows.count()} notices for one shipment`);
    await agent.screenshot({ path: join(out, 'console-notices.png') });
    await agent.locator('[data-testid=settings]').click();
    // The buyer's marketing consent is recorded from the contact panel.
    await agent.locator('[data-conversation]').first().click({ timeout: 5000 });
    const consent = agent.locator('[data-testid=contact-consent]');
    await consent.waitFor({ timeout: 5000 });
    await consent.locator('input').fill('phone call');
    await consent.locator('[data-testid=consent-give]').click();
    await consent.locator('[data-consent=all][data-granted=true]', { hasText: 'phone call' }).waitFor({ timeout: 3000 });
  });

  await check('Frequent questions: the widget buyer\'s question, answered by an agent, is grouped and shows the reply', async () => {
    await agent.locator('[data-testid=questions-nav]').click();
    const card = agent.locator('[data-cluster]', { hasText: run }).first();
    await card.waitFor({ timeout: 10000 });
    await card.locator('.reply').waitFor({ timeout: 1000 });
    await agent.locator('[data-testid=questions-nav]').click();
    await agent.locator('[data-testid=questions]').waitFor({ state: 'detached', timeout: 2000 });
  });

  await check('Reports: the overview charts the demo\'s conversations; by tag, a number opens its conversations and one of them', async () => {
    await agent.locator('[data-testid=reports-nav]').click();
    const volume = agent.locator('[data-testid=chart-volume]');
    await volume.locator('canvas').first().waitFor({ timeout: 10000 });
    const total = Number(await volume.getAttribute('data-total'));
    if (!(total > 0)) throw new Error(`the volume chart draws nothing (total ${total})`);
    const opened = Number(await agent.locator('[data-testid=figures] button[data-metric=opened]').textContent());
    if (!(opened > 0)) throw new Error(`the overview counts ${opened} opened conversations`);
    await agent.locator('[data-testid=csat]').waitFor({ timeout: 2000 });
    await agent.screenshot({ path: join(out, 'console-reports.png') });
    await agent.locator('[data-report-tab=breakdown]').click();
    await agent.locator('[data-testid=breakdown][data-dimension=channel]').waitFor({ timeout: 5000 });
    await agent.locator('[data-testid=dimension]').selectOption('tag');
    const table = agent.locator('[data-testid=breakdown][data-dimension=tag]');
    await table.waitFor({ timeout: 5000 });
    await agent.locator('[data-testid=chart-breakdown] canvas').first().waitFor({ timeout: 5000 });
    const row = table.locator('tr[data-key]:not([data-key=""])').first();
    await row.waitFor({ timeout: 5000 });
    const number = row.locator('button[data-metric=opened]');
    const count = Number(await number.textContent());
    await number.click();
    const drill = agent.locator('[data-testid=drill]');
    await drill.waitFor({ timeout: 5000 });
    const ids = drill.locator('[data-drill-conversation]');
    await ids.first().waitFor({ timeout: 5000 });
    if ((await ids.count()) !== count) throw new Error(`the number says ${count}, its list has ${await ids.count()}`);
    const id = await ids.first().getAttribute('data-drill-conversation');
    await ids.first().click();
    await agent.locator(`.row.selected[data-conversation="${id}"]`).waitFor({ timeout: 5000 });
    await agent.waitForFunction((id) => location.hash.endsWith(`/${id}`), id, { timeout: 2000 });
    await agent.screenshot({ path: join(out, 'console-conversation-from-report.png') });
  });

  await check('Product feedback: the demo\'s damaged sneakers are among the SKUs; the SKU charts its weeks and quotes its buyers', async () => {
    await agent.locator('[data-testid=products-nav]').click();
    const row = agent.locator('[data-testid=products-table] tr[data-sku="SNKR-42"]');
    await row.waitFor({ timeout: 10000 });
    const defects = Number(await row.locator('[data-defects]').textContent());
    if (!(defects >= 3)) throw new Error(`SNKR-42 counts ${defects} defect conversations`);
    await row.locator('th button').click();
    const detail = agent.locator('[data-testid=product-detail][data-sku="SNKR-42"]');
    await detail.locator('[data-example]').first().waitFor({ timeout: 5000 });
    await detail.locator('[data-testid=chart-product] canvas').first().waitFor({ timeout: 5000 });
    await agent.screenshot({ path: join(out, 'console-products.png') });
    await agent.locator('[data-testid=products-nav]').click();
    await agent.locator('[data-testid=products]').waitFor({ state: 'detached', timeout: 2000 });
  });

  await check('Segments: a filter by channel shows its audience live, is saved and lists its members with profile chips', async () => {
    await agent.locator('[data-testid=segments-nav]').click();
    const page = agent.locator('[data-testid=segments-page]');
    await page.waitFor({ timeout: 5000 });
    await page.locator('[data-field=channel]').fill('email');
    await page.locator('[data-testid=audience-total]', { hasText: /^[1-9]/ }).waitFor({ timeout: 5000 });
    await page.locator('[data-testid=segment-name]').fill(`Reachable by e-mail ${run}`);
    await page.locator('[data-testid=segment-save]').click();
    await page.locator(`[data-segment="Reachable by e-mail ${run}"]`).waitFor({ timeout: 5000 });
    await page.locator('[data-testid=segment-members] li strong').first().waitFor({ timeout: 5000 });
    await agent.locator('[data-testid=segments-nav]').click();
    await page.waitFor({ state: 'detached', timeout: 2000 });
  });

  await check('Campaigns: a draft to the saved segment shows its audience and texts; launched, every member is decided within the rules', async () => {
    await agent.locator('[data-testid=campaigns-nav]').click();
    const page = agent.locator('[data-testid=campaigns-page]');
    await page.waitFor({ timeout: 5000 });
    await page.locator('[data-testid=campaign-new]').click();
    await page.locator('[data-testid=campaign-name]').fill(`Spring ${run}`);
    await page.locator('[data-testid=campaign-segment]').selectOption({ label: `Reachable by e-mail ${run}` });
    for (const c of ['whatsapp', 'sms', 'messenger', 'instagram', 'telegram']) await page.locator(`input[data-channel=${c}]`).uncheck();
    await page.locator('input[data-channel=email]').check();
    await page.locator('textarea[data-text="0"]').fill('Hi {{ contact.name }}, our spring collection is in.');
    await page.locator('[data-testid=campaign-rate]').fill('6000');
    await page.locator('[data-testid=campaign-save]').click();
    const preview = page.locator('[data-testid=campaign-preview]');
    await preview.waitFor({ timeout: 5000 });
    const audience = Number(await preview.getAttribute('data-audience'));
    if (!(audience > 0)) throw new Error(`the campaign's audience is ${audience}`);
    await page.locator('[data-action=launch]').click();
    await page.locator('[data-testid=campaign-state]:not([data-state=draft])').waitFor({ timeout: 5000 });
    // Every member decided: sent, or skipped with its reason (no consent).
    const deadline = Date.now() + 20000;
    for (;;) {
      await page.locator('.head button:last-child').click();
      const figures = page.locator('[data-testid=campaign-figures]');
      await figures.waitFor({ timeout: 5000 });
      if (Number(await figures.getAttribute('data-planned')) === audience
        && await page.locator('[data-testid=campaign-state][data-state=done]').count()) break;
      if (Date.now() > deadline) throw new Error(`campaign not done: ${await figures.innerText()}`);
      await agent.waitForTimeout(500);
    }
    await page.locator('[data-testid=campaign-log] tr[data-state]').first().waitFor({ timeout: 3000 });
    await agent.screenshot({ path: join(out, 'console-campaigns.png') });
    await agent.locator('[data-testid=campaigns-nav]').click();
    await page.waitFor({ state: 'detached', timeout: 2000 });
  });

  await check('Journeys: a journey written as a vertical step list, tried against a buyer (what would be sent when), then switched on', async () => {
    await agent.locator('[data-testid=journeys-nav]').click();
    const page = agent.locator('[data-testid=journeys-page]');
    await page.waitFor({ timeout: 5000 });
    await page.locator('[data-testid=journey-new]').click();
    await page.locator('[data-testid=journey-name]').fill(`After delivery ${run}`);
    await page.locator('[data-testid=journey-trigger]').selectOption('delivered');
    await page.locator('[data-step="0"] textarea[data-text="0"]').fill('Hi {{contact.name}}, how is your order?');
    for (const type of ['wait_for_reply', 'hand_off', 'tag']) {
      await page.locator('[data-testid=journey-add-type]').selectOption(type);
      await page.locator('[data-testid=journey-add]').click();
    }
    await page.locator('[data-step="2"] input[data-field=reason]').fill('answered the care message');
    // The tag step goes again: three steps are left.
    await page.locator('[data-step="3"] button[aria-label="Remove step"]').click();
    if ((await page.locator('[data-testid=journey-steps] > li').count()) !== 3) throw new Error('the removed step is still there');
    await page.locator('[data-testid=journey-save]').click();
    await page.locator('[data-testid=journey-state][data-state=draft]').waitFor({ timeout: 5000 });
    // The test run against the newest buyer: the first step's decision now.
    await page.locator('[data-testid=journey-test-query]').fill('');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await page.locator('[data-testid=journey-test-contact]').waitFor({ timeout: 5000 });
    await page.locator('[data-testid=journey-test-run]').click();
    const first = page.locator('[data-testid=journey-test-lines] tr').first();
    await first.waitFor({ timeout: 5000 });
    const action = await first.getAttribute('data-action');
    if (!['send', 'skip'].includes(action)) throw new Error(`the test run starts with ${action}`);
    await agent.screenshot({ path: join(out, 'console-journeys.png') });
    await page.locator('[data-action=activate]').click();
    await page.locator('[data-testid=journey-state][data-state=active]').waitFor({ timeout: 5000 });
    if (!(await page.locator('[data-testid=journey-save]').isDisabled())) throw new Error('a journey that is on can be edited');
    await agent.locator('[data-testid=journeys-nav]').click();
    await page.waitFor({ state: 'detached', timeout: 2000 });
  });

  await check('an agent turns on two-factor authentication and signs in with a code of the app', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' });
    try {
      const page = await ctx.newPage();
      await page.goto(demo.base + '/');
      await page.fill('input[name=email]', 'anna@demo.ferry.test');
      await page.fill('input[name=password]', 'ferry-demo');
      await page.click('button[type=submit]');
      await page.locator('[data-testid=security-nav]').click();
      await page.locator('[data-testid=two-factor-setup]').click();
      const secret = (await page.locator('[data-testid=two-factor-secret]').textContent()).trim();
      await page.fill('input[name=totp]', totp(secret));
      await page.locator('[data-testid=two-factor-enable]').click();
      const codes = page.locator('[data-testid=recovery-codes] li');
      await codes.first().waitFor({ timeout: 5000 });
      if ((await codes.count()) !== 10) throw new Error(`${await codes.count()} recovery codes shown`);
      await page.screenshot({ path: join(out, 'console-two-factor.png') });
      await page.locator('[data-testid=recovery-done]').click();
      await page.locator('[data-testid=two-factor-state]', { hasText: 'On' }).waitFor({ timeout: 5000 });
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.fill('input[name=email]', 'anna@demo.ferry.test');
      await page.fill('input[name=password]', 'ferry-demo');
      await page.click('button[type=submit]');
      await page.locator('[data-testid=login-code-form]').waitFor({ timeout: 5000 });
      // The code that turned it on was used; the next step's code is
      // accepted (one step of clock drift is allowed).
      await page.fill('input[name=code]', totp(secret, Date.now() + 30000));
      await page.click('[data-testid=login-code-form] button[type=submit]');
      // Signed in: the console opens where it was, on the security page.
      await page.locator('[data-testid=two-factor-state]', { hasText: 'On' }).waitFor({ timeout: 10000 });
      await page.locator('[data-testid=security-nav]').click();
      await page.locator('[data-conversation]').first().waitFor({ timeout: 10000 });
    } finally {
      await ctx.close();
    }
  });

  await check('translation: a Chinese agent reads the Spanish buyer in Chinese and answers her in Spanish', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
    try {
      const page = await ctx.newPage();
      await page.goto(demo.base + '/');
      await page.fill('input[name=email]', 'li.wei@demo.ferry.test');
      await page.fill('input[name=password]', 'ferry-demo');
      await page.click('button[type=submit]');
      await page.locator('[data-conversation]').first().waitFor({ timeout: 10000 });
      await page.locator('[data-view=all]').click();
      await page.locator('[data-conversation]', { hasText: 'Sofía García' }).first().click();
      const original = page.locator('[data-kind=incoming]', { hasText: '¿Cuándo llegará mi pedido?' }).first();
      await original.locator('[data-testid=translate]').click();
      await original.locator('[data-testid=translation]', { hasText: '我的订单什么时候到？我十天前买的。' }).waitFor({ timeout: 5000 });
      await page.fill('[data-testid=composer]', '您的订单已经发货了。');
      await page.locator('[data-testid=translate-reply]').click();
      const drafted = page.locator('[data-testid=translated-text]');
      await drafted.waitFor({ timeout: 5000 });
      if ((await drafted.inputValue()) !== 'Su pedido ya ha sido enviado.') throw new Error(`draft ${JSON.stringify(await drafted.inputValue())}`);
      await page.screenshot({ path: join(out, 'console-translation.png') });
      await page.locator('[data-testid=composer]').press('Enter');
      const sent = page.locator('[data-kind=outgoing]', { hasText: 'Su pedido ya ha sido enviado.' }).last();
      await sent.locator('[data-testid=written-as]', { hasText: '您的订单已经发货了。' }).waitFor({ timeout: 5000 });
    } finally {
      await ctx.close();
    }
  });

  await check('switch the console to Chinese, remembered after reload', async () => {
    await agent.locator('[data-testid=locale]').selectOption('zh');
    await agent.locator('[data-view=mine]', { hasText: '我的' }).waitFor({ timeout: 2000 });
    await agent.reload();
    await agent.locator('[data-view=mine]', { hasText: '我的' }).waitFor({ timeout: 10000 });
    await agent.locator('[data-conversation]').first().click();
    await agent.locator('[data-testid=composer]').waitFor({ timeout: 5000 });
    // A link to a conversation opens it; its activity lines read in Chinese.
    await agent.evaluate((id) => { location.hash = `#/inbox/open/${id}`; }, convId);
    await agent.locator('.activity', { hasText: '已分配给 Li Wei' }).first().waitFor({ timeout: 5000 });
    if (await agent.locator('.activity', { hasText: 'Assigned to' }).count()) throw new Error('an activity line stays English');
    await agent.screenshot({ path: join(out, 'console-zh.png') });
  });

  await check('the console shows a help overlay for shortcuts', async () => {
    await agent.locator('body').press('?');
    await agent.locator('[role=dialog]', { hasText: '键盘快捷键' }).waitFor({ timeout: 2000 });
    await agent.keyboard.press('Escape');
  });

  await check('an invitation link opens the accept page, which logs the new agent in', async () => {
    await agent.locator('[data-testid=settings]').click();
    await agent.locator('[data-tab=agents]').click();
    const form = agent.locator('[data-testid=invite-form]');
    await form.locator('input[name=invite_name]').fill(`Invitee ${run}`);
    await form.locator('input[name=invite_email]').fill(`invitee-${run}@demo.ferry.test`);
    await form.locator('button').click();
    // The demo sends no e-mail: the console shows the link once.
    const link = await agent.locator('[data-testid=invite-link]').textContent({ timeout: 5000 });
    await agent.locator(`[data-testid=invitations] tr[data-state=pending]`, { hasText: `invitee-${run}` }).waitFor({ timeout: 5000 });
    const invitee = await buyerCtx.browser().newContext({ viewport: { width: 1440, height: 860 }, locale: 'en-US' });
    await invitee.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective}`));
    });
    invitee.on('console', (m) => { if (/CSP violation|Content Security Policy/i.test(m.text())) violations.push(`invitee: ${m.text()}`); });
    const page = await invitee.newPage();
    await page.goto(link.replace(/^https?:\/\/[^/]+/, demo.base));
    await page.locator('[data-testid=public-accept]').waitFor({ timeout: 5000 });
    if (page.url().includes('token=')) throw new Error('the token stays in the address bar');
    await page.fill('input[name=new_password]', 'tulip-harbour-magnet');
    await page.fill('input[name=repeat_password]', 'tulip-harbour-magnet');
    await page.locator('button[type=submit]').click();
    await page.locator('[data-testid=change-password]').waitFor({ timeout: 10000 });
    await invitee.close();
  });

  await check('the login page sends a reset link for a forgotten password', async () => {
    const ctx = await buyerCtx.browser().newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(demo.base + '/');
    await page.locator('[data-testid=forgot]').click();
    await page.locator('[data-testid=forgot-form] input[name=email]').fill('nobody@demo.ferry.test');
    await page.locator('[data-testid=forgot-form] button[type=submit]').click();
    await page.locator('[data-testid=forgot-form] [role=status]').waitFor({ timeout: 5000 });
    await ctx.close();
  });

  await check('the Content-Security-Policy blocked nothing in the console or the widget', async () => {
    if (violations.length) throw new Error(violations.slice(0, 5).join('\n'));
  });
} finally {
  await browser.close();
  demo.proc.kill('SIGTERM');
  rmSync(demo.dataDir, { recursive: true, force: true });
}

if (existsSync(join(out, 'console.png')) && process.env.E2E_UPDATE_SCREENSHOTS === '1') {
  mkdirSync(join(repo, 'docs/screenshots'), { recursive: true });
  copyFileSync(join(out, 'console.png'), join(repo, 'docs/screenshots/console.png'));
  copyFileSync(join(out, 'widget.png'), join(repo, 'docs/screenshots/widget.png'));
}
const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
