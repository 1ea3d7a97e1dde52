// End-to-end tests of the H5 pages in headless Chromium (Debian's chromium, driven by
// playwright-core) against a real `hongbao serve`: on SQLite, or on PostgreSQL when
// HB_TEST_PG names a server (scripts/pg-throwaway.sh). Every page must load without a
// console error and pass basic accessibility checks (a language, labels, names, contrast,
// keyboard use). A failing test saves a screenshot in $HB_BROWSER_ARTIFACTS (default
// ./browser-failures). Usage: HONGBAO_BIN=path/to/hongbao node run.js
'use strict';

const { chromium } = require('playwright-core');
const { spawn, execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const BIN = process.env.HONGBAO_BIN;
const CHROMIUM = process.env.HB_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.resolve(process.env.HB_BROWSER_ARTIFACTS || 'browser-failures');
if (!BIN) {
  console.error('HONGBAO_BIN must name the hongbao binary');
  process.exit(2);
}

// ---- the server -------------------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-browser-'));
const pg = process.env.HB_TEST_PG;
const db = pg ? `${pg}/hbt_browser_${process.pid}` : path.join(dir, 'web.db');
const LOGIN_STEP = 'https://app.example.com/login';
const env = { ...process.env, HONGBAO_WEB_LOGIN_URL: LOGIN_STEP };
if (pg) {
  env.HONGBAO_KEY_FILE = path.join(dir, 'web.key');
  env.HONGBAO_AUDIT_KEY_FILE = path.join(dir, 'web.audit-key');
}
let server = null;
let base = '';
let admin = null;

async function startServer() {
  admin = JSON.parse(execFileSync(BIN, ['init', '--db', db, '--json'], { env }).toString());
  const log = path.join(dir, 'serve.log');
  const out = fs.openSync(log, 'w');
  server = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', out, out] });
  for (let i = 0; i < 200; i++) {
    const m = /"address":"127\.0\.0\.1:(\d+)"/.exec(fs.readFileSync(log, 'utf8'));
    if (m) {
      base = `http://127.0.0.1:${m[1]}`;
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('serve did not start: ' + fs.readFileSync(log, 'utf8'));
}

// A request signed with the admin key (HB1-HMAC-SHA256, as scripts/hbcurl).
async function api(method, target, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  const ts = Math.floor(Date.now() / 1000);
  const nonce = crypto.randomBytes(16).toString('hex');
  const bodyHash = crypto.createHash('sha256').update(text).digest('hex');
  const sig = crypto.createHmac('sha256', admin.secret)
    .update(`${method}\n${target}\n${ts}\n${nonce}\n${bodyHash}\n`).digest('hex');
  const h = { Authorization: `HB1-HMAC-SHA256 key=${admin.key_id},ts=${ts},nonce=${nonce},sig=${sig}`, ...headers };
  if (text) h['Content-Type'] = 'application/json';
  const res = await fetch(base + target, { method, headers: h, body: text || undefined });
  const type = res.headers.get('content-type') || '';
  const json = type.startsWith('application/json') ? await res.json() : null;
  return { status: res.status, body: json, res };
}

async function must(method, target, body, status = 201) {
  const r = await api(method, target, body);
  if (r.status !== status) throw new Error(`${method} ${target}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

// A person with money and a bearer session: {id, token}.
async function person(name, fen) {
  const p = await must('POST', '/v1/accounts', { tier: 'personal', name, real_name_level: 3 });
  if (fen > 0) await must('POST', `/v1/accounts/${p.id}/topup`, { amount: fen, external_ref: `fund-${p.id}` });
  const s = await must('POST', `/v1/accounts/${p.id}/sessions`);
  return { id: p.id, token: s.token };
}

async function balance(id) {
  return (await must('GET', `/v1/accounts/${id}`, undefined, 200)).balance;
}

// A call with a person's bearer session.
async function bearer(token, method, target, body) {
  const h = { Authorization: `Bearer ${token}` };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  h['Idempotency-Key'] = crypto.randomBytes(12).toString('hex');
  const res = await fetch(base + target, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

// ---- the browser --------------------------------------------------------------------------

let browser = null;
const consoleErrors = [];

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.on('console', (m) => {
    // answers a page expects and shows (a used link, a refused change, a signed-out session)
    // are logged by Chromium too; everything else is an error
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 40[139]/.test(m.text())) {
      consoleErrors.push(`${page.url()}: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

// Basic accessibility: a language, every control named and labelled, text contrast of at
// least 4.5:1 (3:1 for large text), nothing reachable only by mouse.
async function checkAccessibility(page, where) {
  const problems = await page.evaluate(() => {
    const out = [];
    if (!document.documentElement.lang) out.push('the page has no lang');
    if (!document.title) out.push('the page has no title');
    const visible = (el) => el.offsetParent !== null || getComputedStyle(el).position === 'fixed';
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (!visible(el) || el.type === 'hidden') continue;
      const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!labelled) out.push(`input #${el.id || el.name} has no label`);
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (!visible(el)) continue;
      const name = (el.getAttribute('aria-label') || el.textContent || '').trim();
      if (!name) out.push(`a ${el.tagName.toLowerCase()} has no accessible name`);
      if (el.tabIndex < 0) out.push(`${el.tagName.toLowerCase()} "${name}" cannot be reached by keyboard`);
    }
    for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) out.push('an image has no alt');
    const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const cs = getComputedStyle(e);
        if (cs.backgroundImage && cs.backgroundImage !== 'none') return null; // a gradient: checked by eye
        const c = rgb(cs.backgroundColor);
        if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
      }
      return [255, 255, 255];
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || !visible(el)) continue;
      const bg = background(el);
      if (!bg) continue;
      const cs = getComputedStyle(el);
      const fg = rgb(cs.color);
      const [a, b] = [lum(fg) + 0.05, lum(bg) + 0.05];
      const ratio = Math.max(a, b) / Math.min(a, b);
      const large = parseFloat(cs.fontSize) >= 24 || (parseFloat(cs.fontSize) >= 18.66 && Number(cs.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`"${n.textContent.trim().slice(0, 20)}" has contrast ${ratio.toFixed(2)}`);
    }
    return out;
  });
  if (problems.length) throw new Error(`${where}: accessibility: ${problems.join('; ')}`);
}

// ---- the tests ------------------------------------------------------------------------------

const results = [];
async function test(name, fn) {
  const pages = [];
  const started = Date.now();
  try {
    await fn(pages);
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e.stack || e}`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (let i = 0; i < pages.length; i++) {
      const file = path.join(ARTIFACTS, `${name.replace(/\W+/g, '_')}-${i}.png`);
      try { await pages[i].screenshot({ path: file, fullPage: true }); console.log(`     screenshot: ${file}`); } catch (err) { /* closed */ }
    }
  } finally {
    for (const p of pages) await p.context().close().catch(() => {});
  }
}

async function claimAs(pages, url, who) {
  const page = await newPage();
  pages.push(page);
  await page.goto(`${url}#s=${who.token}`);
  if (page.url().includes('#')) throw new Error('the session stayed in the address bar');
  return page;
}

// Three people open the packet at url: each sees the sender and wishing, opens it, sees an
// amount its wallet received; the amounts add up to total; 手气最佳 shows once at the end.
async function claimThree(pages, url, from, wishing, total) {
  const people = [await person('李雷', 0), await person('韩梅梅', 0), await person('张三', 0)];
  let sum = 0;
  for (const who of people) {
    const page = await claimAs(pages, url, who);
    await page.getByText(from).waitFor();
    await page.getByText(wishing).waitFor();
    await checkAccessibility(page, 'claim page before opening');
    await page.getByRole('button', { name: '拆开红包' }).click();
    await page.locator('#result:not(.hidden)').waitFor();
    const text = await page.locator('#amount').textContent();
    const fen = Math.round(parseFloat(text) * 100);
    if (!(fen >= 1)) throw new Error('no amount shown: ' + text);
    sum += fen;
    const got = await balance(who.id);
    if (got !== fen) throw new Error(`the page says ${fen} fen, the wallet holds ${got}`);
    await page.getByText('已存入零钱').waitFor();
    await checkAccessibility(page, 'claim page after opening');
  }
  if (sum !== total) throw new Error(`the shares add up to ${sum}, not ${total}`);
  const last = pages[pages.length - 1];
  await last.reload();
  await last.locator('ul.claims li').nth(2).waitFor();
  if ((await last.locator('ul.claims li').count()) !== 3) throw new Error('not three claims listed');
  if ((await last.locator('.best').count()) !== 1) throw new Error('手气最佳 is not shown exactly once');
  await last.getByText('你已经领过这个红包了').waitFor();
  const yuan = (total / 100).toFixed(2);
  await last.getByText(`已领取 3/3 个，共 ${yuan}/${yuan} 元`).waitFor();
}

async function main() {
  await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });

  await test('claim page: three people open one packet, the amounts add up, 手气最佳 once', async (pages) => {
    const sender = await person('王小明', 100000);
    const r = await bearer(sender.token, 'POST', '/v1/packets', { total: 300, count: 3, mode: 'random', wishing: '恭喜发财，大吉大利' });
    if (r.status !== 201) throw new Error('packet: ' + JSON.stringify(r.body));
    const url = `${base}/c/${r.body.claim_token}`;
    await claimThree(pages, url, '王** 的红包', '恭喜发财，大吉大利', 300);
    const late = await claimAs(pages, url, await person('迟到者', 0));
    await late.getByText('手慢了，红包派完了').waitFor();
    if (!(await late.getByRole('button', { name: '拆开红包' }).isDisabled())) throw new Error('a late claimer may still press open');
    // English, by keyboard
    await late.keyboard.press('Tab');
    await late.keyboard.press('Enter');
    await late.getByText('Too late: every share has been taken.').waitFor();
  });

  await test('claim page: no session, a bad link, an expired packet', async (pages) => {
    const sender = await person('赵六', 10000);
    const r = await bearer(sender.token, 'POST', '/v1/packets', { total: 100, count: 2, mode: 'fixed', expires_in: 10 });
    const page = await newPage();
    pages.push(page);
    await page.goto(`${base}/c/${r.body.claim_token}`);
    // no session: the operator's login step, which comes back here with one
    const login = page.getByRole('link', { name: '登录后领取' });
    await login.waitFor();
    const href = await login.getAttribute('href');
    if (href !== `${LOGIN_STEP}?return=${encodeURIComponent(`${base}/c/${r.body.claim_token}`)}`) throw new Error('login step: ' + href);
    if (!(await page.getByRole('button', { name: '拆开红包' }).isDisabled())) throw new Error('open without a session');
    await page.goto(`${base}/c/not-a-token`);
    await page.getByText('这个红包不存在，或链接有误').waitFor();
    await checkAccessibility(page, 'claim page, bad link');
    await new Promise((res) => setTimeout(res, 10500));
    const who = await person('钱七', 0);
    const late = await claimAs(pages, `${base}/c/${r.body.claim_token}`, who);
    // expired, or already refunded by the server's sweeper: either way closed
    await late.getByText(/红包已过期|红包已退回/).waitFor();
    if (!(await late.getByRole('button', { name: '拆开红包' }).isDisabled())) throw new Error('an expired packet may be opened');
  });

  await test('pay page: a static code (amount entered) and a dynamic code (amount fixed) paid once; cancelled, blocked and fused codes explained', async (pages) => {
    const merchant = await must('POST', '/v1/accounts', { tier: 'enterprise', name: '好味餐厅', real_name_level: 3 });
    const payer = await person('孙八', 100000);
    const sticker = await must('POST', '/v1/codes', { owner: merchant.id, kind: 'static', memo: '午餐', merchant_name: 'Haowei Kitchen' });
    const page = await newPage();
    pages.push(page);
    await page.goto(`${sticker.url}#s=${payer.token}`);
    await page.getByText('Haowei Kitchen').first().waitFor();
    await checkAccessibility(page, 'pay page, static code');
    await page.getByLabel('金额（元）').fill('12.3x');
    await page.getByRole('button', { name: '确认付款' }).click();
    await page.getByText('请输入正确的金额').waitFor();
    await page.getByLabel('金额（元）').fill('12.34');
    await page.getByRole('button', { name: '确认付款' }).click();
    await page.getByText('支付成功').first().waitFor();
    await page.getByText('12.34 元').waitFor();
    await checkAccessibility(page, 'pay page, paid');
    if ((await balance(payer.id)) !== 100000 - 1234) throw new Error('the payer was not charged 12.34');
    // paying the same again from the same tab is a second payment, not a replay of the first
    const repeat = await newPage();
    pages.push(repeat);
    await repeat.goto(`${sticker.url}#s=${payer.token}`);
    await repeat.getByLabel('金额（元）').fill('12.34');
    await repeat.getByRole('button', { name: '确认付款' }).click();
    await repeat.getByText('支付成功').first().waitFor();
    if ((await balance(payer.id)) !== 100000 - 2 * 1234) throw new Error('the second 12.34 was not charged');
    await must('POST', `/v1/accounts/${payer.id}/topup`, { amount: 1234, external_ref: `refill-${payer.id}` });
    // the speak control hands the amount to the browser's speech synthesis
    await page.evaluate(() => {
      window.spoken = [];
      speechSynthesis.speak = (u) => window.spoken.push(u.text);
    });
    await page.getByRole('button', { name: '朗读' }).click();
    const spoken = await page.evaluate(() => window.spoken);
    if (spoken.length !== 1 || !spoken[0].includes('12.34元')) throw new Error('spoken: ' + JSON.stringify(spoken));
    // and the server reads the receipt aloud for the merchant's speaker (espeak-ng)
    const list = await must('GET', `/v1/payments?code=${sticker.id}`, undefined, 200);
    const paymentId = list.data[0].id;
    const wav = await api('GET', `/v1/payments/${paymentId}/voice.wav`);
    if (wav.status !== 200) throw new Error('voice.wav: ' + wav.status);
    const bytes = Buffer.from(await wav.res.arrayBuffer());
    if (bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE') throw new Error('voice.wav is not a WAV file');
    if (bytes.readUInt32LE(4) !== bytes.length - 8 || bytes.readUInt32LE(40) !== bytes.length - 44) throw new Error('voice.wav sizes are wrong');
    if (bytes.length < 8000) throw new Error('voice.wav is too short to say anything');
    const stranger = await person('路人', 0);
    const theirs = await fetch(`${base}/v1/payments/${paymentId}/voice.wav`, { headers: { Authorization: `Bearer ${stranger.token}` } });
    if (theirs.status !== 404) throw new Error(`another person may hear the receipt: ${theirs.status}`);
    const english = await api('GET', `/v1/payments/${paymentId}/voice.wav?lang=en`);
    if (english.status !== 200) throw new Error('voice.wav?lang=en: ' + english.status);
    if ((await api('GET', `/v1/payments/${paymentId}/voice.wav?lang=fr`)).status !== 400) throw new Error('lang=fr accepted');
    // the dynamic code: its amount shown, paid by keyboard, and not twice
    const order = await must('POST', '/v1/codes', { owner: merchant.id, kind: 'dynamic', amount: 500, order_no: 'WEB-1', merchant_name: 'Haowei Kitchen' });
    const dyn = await newPage();
    pages.push(dyn);
    await dyn.goto(`${order.url}#s=${payer.token}`);
    await dyn.getByText('5.00 元').waitFor();
    await dyn.getByRole('button', { name: '确认付款' }).focus();
    await dyn.keyboard.press('Enter');
    await dyn.getByText('支付成功').first().waitFor();
    if ((await balance(payer.id)) !== 100000 - 1234 - 500) throw new Error('the payer was not charged 5.00');
    const again = await newPage();
    pages.push(again);
    await again.goto(`${order.url}#s=${payer.token}`);
    await again.getByText('这笔订单已经付过了').waitFor();
    if (!(await again.getByRole('button', { name: '确认付款' }).isDisabled())) throw new Error('a paid order can be paid again');
    await again.goto(`${base}/p/nonsense`);
    await again.getByText('这不是本平台的付款码').waitFor();
    // a cancelled order, a code on the block list, a fused code: each explained
    const dropped = await must('POST', '/v1/codes', { owner: merchant.id, kind: 'dynamic', amount: 300, order_no: 'WEB-2', merchant_name: 'Haowei Kitchen' });
    await must('POST', `/v1/codes/${dropped.id}/cancel`, undefined, 200);
    const cancelled = await newPage();
    pages.push(cancelled);
    await cancelled.goto(`${dropped.url}#s=${payer.token}`);
    await cancelled.getByText('付款码已被商家取消').waitFor();
    const listed = await must('POST', '/v1/codes', { owner: merchant.id, kind: 'static', merchant_name: 'Haowei Kitchen' });
    await must('POST', '/v1/risk/lists/codes', { value: listed.id, reason: 'test: reported' });
    const blocked = await newPage();
    pages.push(blocked);
    await blocked.goto(`${listed.url}#s=${payer.token}`);
    await blocked.getByLabel('金额（元）').fill('1.00');
    await blocked.getByRole('button', { name: '确认付款' }).click();
    await blocked.getByText(/付款被风控拦截/).waitFor();
    const fusedCode = await must('POST', '/v1/codes', { owner: merchant.id, kind: 'static', merchant_name: 'Haowei Kitchen' });
    for (let i = 0; i < 5; i++) { // the same amount five times in a row: the code is fused
      const p = await bearer(payer.token, 'POST', '/v1/payments', { payload: fusedCode.url, amount: 100 });
      if (p.status !== 201) throw new Error('paying toward the fuse: ' + JSON.stringify(p.body));
    }
    const fused = await newPage();
    pages.push(fused);
    await fused.goto(`${fusedCode.url}#s=${payer.token}`);
    await fused.getByLabel('金额（元）').fill('1.00');
    await fused.getByRole('button', { name: '确认付款' }).click();
    await fused.getByText('这个付款码已暂停收款，请联系商家').waitFor();
  });

  await test('dashboard: a login link signs a merchant in once; scene presets, a draft kept over a reload, a packet sent', async (pages) => {
    const merchant = await must('POST', '/v1/accounts', { tier: 'enterprise', name: '喜事商行', real_name_level: 3 });
    await must('POST', `/v1/accounts/${merchant.id}/topup`, { amount: 100000000, external_ref: `fund-${merchant.id}` });
    const link = await must('POST', '/v1/login-links', { role: 'merchant', account: merchant.id });
    if (!link.url.includes('/login#t=hbl_')) throw new Error('link: ' + link.url);
    const page = await newPage();
    pages.push(page);
    await page.goto(link.url);
    await page.getByRole('button', { name: '用这个链接登录' }).click();
    await page.waitForURL(`${base}/dashboard`);
    await page.locator('#panels:not(.hidden)').waitFor();
    const cookie = (await page.context().cookies()).find((c) => c.name === 'hb_web');
    if (!cookie || !cookie.httpOnly || cookie.sameSite !== 'Strict') throw new Error('the session cookie: ' + JSON.stringify(cookie));
    // the link is used up
    const again = await newPage();
    pages.push(again);
    await again.goto(link.url);
    await again.getByRole('button', { name: '用这个链接登录' }).click();
    await again.getByText('登录链接无效、已使用或已过期').waitFor();
    // a scene fills the form; what is typed is kept as a draft over a reload
    await page.getByLabel('场景').selectOption('wedding');
    if ((await page.getByLabel('总金额（元）').inputValue()) !== '200.00') throw new Error('the wedding preset did not fill 200.00');
    if ((await page.getByLabel('祝福语').inputValue()) !== '百年好合，永结同心') throw new Error('the wedding preset did not fill its wishing');
    await page.getByLabel('总金额（元）').fill('288.00');
    await page.getByLabel('红包个数').fill('3');
    await page.getByLabel('祝福语').fill('早生贵子');
    await page.reload();
    await page.getByText('有一份未发出的红包草稿').waitFor();
    await checkAccessibility(page, 'dashboard with a draft');
    await page.getByRole('button', { name: '继续编辑' }).click();
    if ((await page.getByLabel('总金额（元）').inputValue()) !== '288.00' || (await page.getByLabel('祝福语').inputValue()) !== '早生贵子') {
      throw new Error('the draft was not restored');
    }
    await page.getByRole('button', { name: '塞钱进红包' }).click();
    await page.getByText('已发出，领取链接').waitFor();
    const claimLink = await page.locator('#claim-link').textContent();
    if (!claimLink.includes('/c/')) throw new Error('no claim link: ' + claimLink);
    await page.locator('#packets td', { hasText: '288.00' }).first().waitFor();
    // the packet sent from the dashboard, opened by three people from its link
    await claimThree(pages, claimLink, '喜*** 的红包', '早生贵子', 28800);
    await page.locator('#packets td', { hasText: '3/3' }).first().waitFor();
    await page.reload();
    await page.locator('#panels:not(.hidden)').waitFor();
    if (await page.locator('#draft:not(.hidden)').count()) throw new Error('the sent packet is still offered as a draft');
    // a change without the page's CSRF token is refused, with it accepted
    const csrf = await page.evaluate(async () => {
      const bare = await fetch('/v1/codes', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"kind":"static"}' });
      const s = await (await fetch('/v1/web/session')).json();
      const good = await fetch('/v1/codes', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf }, body: '{"kind":"static"}' });
      return [bare.status, good.status];
    });
    if (csrf[0] !== 403 || csrf[1] !== 201) throw new Error('CSRF: ' + JSON.stringify(csrf));
    // the console is not a merchant's
    const admin = await newPage();
    pages.push(admin);
    await page.goto(`${base}/admin`);
    await page.getByText('这个页面供运营人员使用').waitFor();
    await page.goto(`${base}/dashboard`);
    await page.locator('#panels:not(.hidden)').waitFor();
    await checkAccessibility(page, 'dashboard');
    await page.getByRole('button', { name: '退出' }).click();
    await page.getByText('请使用管理员发给你的登录链接登录').waitFor();
    const after = await fetch(`${base}/v1/web/session`, { headers: { Cookie: `hb_web=${cookie.value}` } });
    if (after.status !== 401) throw new Error('the session outlived its logout: ' + after.status);
  });

  await test('dashboard: the dynamic code refreshes itself before its token expires, and its payment arrives', async (pages) => {
    const merchant = await must('POST', '/v1/accounts', { tier: 'enterprise', name: '便利店', real_name_level: 3 });
    const link = await must('POST', '/v1/login-links', { role: 'merchant', account: merchant.id });
    const page = await newPage();
    pages.push(page);
    await page.goto(link.url);
    await page.getByRole('button', { name: '用这个链接登录' }).click();
    await page.locator('#panels:not(.hidden)').waitFor();
    await page.getByLabel('收款金额（元）').fill('9.99');
    await page.getByRole('button', { name: '生成收款码' }).click();
    const qr = page.getByRole('img', { name: '收款码 9.99 元' });
    await qr.waitFor();
    const first = await qr.getAttribute('src');
    await page.getByText(/请顾客扫码/).waitFor();
    // the token is resealed every minute: the picture follows by itself
    await page.waitForFunction((src) => {
      const img = document.getElementById('qr');
      return img.getAttribute('src') !== src && img.complete && img.naturalWidth > 0;
    }, first, { timeout: 90000 });
    const code = (await must('GET', `/v1/codes?owner=${merchant.id}`, undefined, 200).catch(() => null));
    const codeId = new URL(base + (await qr.getAttribute('src'))).pathname.split('/')[3];
    const current = await must('GET', `/v1/codes/${codeId}`, undefined, 200);
    const payer = await person('顾客', 10000);
    const paid = await bearer(payer.token, 'POST', '/v1/payments', { payload: current.payload });
    if (paid.status !== 201) throw new Error('paying the refreshed code: ' + JSON.stringify(paid.body));
    await page.getByText('已收款 9.99 元').waitFor();
    await page.locator('#payments td', { hasText: '9.99' }).first().waitFor();
    await checkAccessibility(page, 'dashboard after a payment');
    void code;
  });

  await test('admin console: sign in, ledger and audit status, resolve a risk case', async (pages) => {
    const suspect = await person('周九', 10000);
    const friend = await person('吴十', 0);
    await must('POST', '/v1/risk/lists/accounts', { value: suspect.id, reason: 'test: reported' });
    const blocked = await bearer(suspect.token, 'POST', '/v1/transfers', { from: suspect.id, to: friend.id, amount: 100 });
    if (blocked.status !== 403) throw new Error('the listed account paid: ' + JSON.stringify(blocked.body));
    const link = await must('POST', '/v1/login-links', { role: 'admin' });
    const page = await newPage();
    pages.push(page);
    await page.goto(link.url);
    await page.getByRole('button', { name: '用这个链接登录' }).click();
    await page.waitForURL(`${base}/admin`);
    await page.getByText(/账本平衡/).waitFor();
    await page.getByText(/审计链完整/).waitFor();
    await page.locator('#cases td', { hasText: suspect.id }).first().waitFor();
    await page.locator('#lists td', { hasText: suspect.id }).first().waitFor();
    await checkAccessibility(page, 'admin console');
    const caseRow = page.locator('#cases tr', { hasText: suspect.id }).first();
    await caseRow.getByRole('button', { name: /驳回/ }).click();
    await page.getByText(/已处理（驳回）/).waitFor();
    const open = await must('GET', `/v1/risk/cases?status=open&account=${suspect.id}`, undefined, 200);
    if (open.data.length !== 0) throw new Error('the case is still open');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByText(/The ledger balances/).waitFor();
  });

  await test('maker-checker: a browser session begun after a proposal may not approve it; one begun before may', async () => {
    const signIn = async () => {
      const link = await must('POST', '/v1/login-links', { role: 'admin' });
      const res = await fetch(`${base}/v1/web/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                         body: JSON.stringify({ token: link.url.split('#t=')[1] }) });
      if (res.status !== 200) throw new Error('web login: ' + res.status);
      const cookie = /hb_web=[^;]+/.exec(res.headers.get('set-cookie'))[0];
      return { cookie, csrf: (await res.json()).csrf };
    };
    const approve = async (who, id) => {
      const res = await fetch(`${base}/v1/adjustments/${id}/approve`, {
        method: 'POST', headers: { Cookie: who.cookie, 'X-CSRF-Token': who.csrf, 'Content-Type': 'application/json' }, body: '{}' });
      return { status: res.status, body: await res.json() };
    };
    const a = await person('调账甲', 10000);
    const b = await person('调账乙', 0);
    const early = await signIn(); // another admin's browser, open before the proposal
    await new Promise((res) => setTimeout(res, 20));
    const first = await must('POST', '/v1/adjustments', { from: a.id, to: b.id, amount: 100, reason: 'test: duplicate charge' });
    const late = await signIn(); // a session the proposer could have opened for itself
    const refused = await approve(late, first.id);
    if (refused.status !== 403) throw new Error('a session begun after the proposal approved it: ' + JSON.stringify(refused.body));
    const bare = await fetch(`${base}/v1/adjustments/${first.id}/approve`, { method: 'POST', headers: { Cookie: early.cookie, 'Content-Type': 'application/json' }, body: '{}' });
    if (bare.status !== 403) throw new Error('an approval without the CSRF token: ' + bare.status);
    const ok = await approve(early, first.id);
    if (ok.status !== 200 || ok.body.status !== 'approved') throw new Error('the earlier session could not approve: ' + JSON.stringify(ok.body));
    if (!/^web:admin:[0-9a-f]{16}$/.test(ok.body.decided_by)) throw new Error('the approver is not named by its session: ' + ok.body.decided_by);
    if ((await balance(b.id)) !== 100) throw new Error('the approved adjustment did not move the money');
  });

  await test('pages send their security headers and leak no token in a referrer', async () => {
    const res = await fetch(`${base}/c/whatever`);
    const csp = res.headers.get('content-security-policy') || '';
    if (!csp.includes("script-src 'self'")) throw new Error('no CSP: ' + csp);
    if (res.headers.get('referrer-policy') !== 'no-referrer') throw new Error('no Referrer-Policy');
    if (res.headers.get('x-frame-options') !== 'DENY') throw new Error('no X-Frame-Options');
    const asset = await fetch(`${base}/assets/claim.js`);
    if (asset.status !== 200 || !(asset.headers.get('content-type') || '').startsWith('text/javascript')) throw new Error('claim.js not served');
    if ((await fetch(`${base}/assets/claim.html`)).status !== 404) throw new Error('a page is served as an asset');
    if ((await fetch(`${base}/assets/../hongbao.db`)).status === 200) throw new Error('a path outside the assets is served');
  });

  if (consoleErrors.length) {
    results.push({ name: 'no console errors', ok: false });
    console.log('FAIL console errors:\n  ' + consoleErrors.join('\n  '));
  } else {
    console.log('ok   no console errors on any page');
  }
  await browser.close();
}

main().catch((e) => {
  console.log('FAIL ' + (e.stack || e));
  results.push({ name: 'setup', ok: false });
}).finally(() => {
  if (server) server.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
  const failed = results.filter((r) => !r.ok).length;
  console.log(`browser: ${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
});
