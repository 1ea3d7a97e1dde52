// The merchant dashboard /dashboard: send red packets (scene presets, drafts kept locally),
// show a dynamic payment code that refreshes itself, payments and claims as they arrive,
// statistics and settlements. Every call goes through the API with the session cookie.
'use strict';

const STRINGS = {
  zh: {
    title: '商户中心', logout: '退出', send: '发红包', scene: '场景', total: '总金额（元）', count: '红包个数',
    mode: '类型', random: '拼手气', fixed: '普通（金额相同）', wishing: '祝福语', send_button: '塞钱进红包',
    draft_found: '有一份未发出的红包草稿。', draft_continue: '继续编辑', draft_discard: '放弃',
    code: '动态收款码', code_amount: '收款金额（元）', code_button: '生成收款码',
    payments: '最近收款', packets: '红包领取', when: '时间', amount: '金额', fee: '手续费', voice: '播报',
    claimed: '已领', status: '状态', stats: '统计（近 7 天）', settlements: '结算', day: '日期', net: '净额',
    count_payments: '笔数', file: '文件', download: '下载 CSV', speak: '朗读', play: '播放',
    chart_hours: '每小时领取数', chart_histogram: '领取金额分布', chart_fees: '每日手续费',
    claims: '领取数', fees: '手续费（元）', rate: '领取率 {rate}%（{claimed}/{shares} 个）',
    signed_out: '请使用管理员发给你的登录链接登录。', not_merchant: '这个页面供商户使用。',
    sent: '已发出，领取链接：', bad_total: '请输入正确的金额。', bad_count: '请输入红包个数。',
    refused: '未能完成：{why}', busy: '网络繁忙，请稍后再试。', code_live: '请顾客扫码，{s} 秒后自动刷新',
    code_paid: '已收款 {amount} 元', code_ended: '收款码已失效', code_qr: '收款码 {amount} 元',
    sent_status: '进行中', claimed_out: '已领完', expired: '已过期', refunded: '已退回', spoken: '收款{amount}元',
  },
  en: {
    title: 'Merchant dashboard', logout: 'Sign out', send: 'Send a red packet', scene: 'Scene', total: 'Total (yuan)', count: 'Shares',
    mode: 'Kind', random: 'Lucky draw', fixed: 'Equal shares', wishing: 'Wishing', send_button: 'Send',
    draft_found: 'You have an unsent red packet draft.', draft_continue: 'Continue', draft_discard: 'Discard',
    code: 'Dynamic payment code', code_amount: 'Amount (yuan)', code_button: 'Show the code',
    payments: 'Latest payments', packets: 'Red packets', when: 'Time', amount: 'Amount', fee: 'Fee', voice: 'Voice',
    claimed: 'Claimed', status: 'Status', stats: 'Statistics (last 7 days)', settlements: 'Settlements', day: 'Day', net: 'Net',
    count_payments: 'Payments', file: 'File', download: 'Download CSV', speak: 'Read', play: 'Play',
    chart_hours: 'Claims per hour', chart_histogram: 'Claim amounts', chart_fees: 'Fees per day',
    claims: 'Claims', fees: 'Fees (yuan)', rate: 'Claim rate {rate}% ({claimed} of {shares} shares)',
    signed_out: 'Sign in with the login link an admin gave you.', not_merchant: 'This page is for merchants.',
    sent: 'Sent. Its claim link:', bad_total: 'Enter an amount such as 88.88.', bad_count: 'Enter the number of shares.',
    refused: 'Not done: {why}', busy: 'The network is busy, try again shortly.', code_live: 'Ask the customer to scan; it refreshes in {s} s',
    code_paid: 'Paid {amount} yuan', code_ended: 'This code has ended', code_qr: 'Payment code for {amount} yuan',
    sent_status: 'Open', claimed_out: 'All claimed', expired: 'Expired', refunded: 'Refunded', spoken: 'Received {amount} yuan',
  },
};

const DRAFT = 'hb_packet_draft';
let me = null;
let scenes = [];
let code = null; // the dynamic code on show
const charts = {};

function say(id, key, vars, kind) {
  const el = document.getElementById(id);
  el.textContent = key ? HB.t(key, vars) : '';
  el.className = 'state' + (kind ? ' ' + kind : '') + (id === 'state' ? ' card' : '') + (id === 'state' && !key ? ' hidden' : '');
}

function why(res) {
  return (res.body && res.body.error && res.body.error.message) || String(res.status);
}

// ---- red packets: scene presets and the local draft ----

function formValues() {
  const f = document.getElementById('packet-form');
  return { scene: f.scene.value, total: f.total.value, count: f.count.value, mode: f.mode.value, wishing: f.wishing.value };
}

function setForm(v) {
  const f = document.getElementById('packet-form');
  for (const k of ['scene', 'total', 'count', 'mode', 'wishing']) if (v[k] !== undefined) f[k].value = v[k];
}

function saveDraft() {
  localStorage.setItem(DRAFT, JSON.stringify(formValues()));
}

function applyScene() {
  const s = scenes.find((x) => x.scene === document.getElementById('scene').value);
  if (!s) return;
  setForm({ total: HB.yuan(s.suggested_total.min), count: String(s.suggested_count), wishing: s.wishing });
}

async function loadScenes() {
  const res = await HB.webCall('GET', '/v1/scenes');
  scenes = res.status === 200 ? res.body.data : [];
  const select = document.getElementById('scene');
  select.replaceChildren();
  for (const s of scenes) {
    const o = document.createElement('option');
    o.value = s.scene;
    o.textContent = s.title;
    select.append(o);
  }
}

async function sendPacket(event) {
  event.preventDefault();
  const v = formValues();
  const total = HB.fen(v.total);
  const count = Number(v.count);
  if (!total) return say('send-state', 'bad_total', {}, 'error');
  if (!Number.isInteger(count) || count < 1) return say('send-state', 'bad_count', {}, 'error');
  const body = { total, count, mode: v.mode, scene: v.scene };
  if (v.wishing) body.wishing = v.wishing;
  const res = await HB.webCall('POST', '/v1/packets', body, HB.idempotencyKey('packet_' + JSON.stringify(v)));
  if (res.status !== 201) return say('send-state', res.status === 0 ? 'busy' : 'refused', { why: why(res) }, 'error');
  localStorage.removeItem(DRAFT);
  HB.forgetKey('packet_' + JSON.stringify(v));
  say('send-state', 'sent', {}, 'ok');
  document.getElementById('claim-link').textContent = res.body.claim_url;
  refresh();
}

// ---- the dynamic code, shown as a QR that refreshes before its token does ----

async function showCode(event) {
  event.preventDefault();
  const amount = HB.fen(document.getElementById('code-amount').value);
  if (!amount) return say('code-state', 'bad_total', {}, 'error');
  const res = await HB.webCall('POST', '/v1/codes', { kind: 'dynamic', amount, order_no: 'web-' + HB.freshKey().slice(0, 20) });
  if (res.status !== 201) return say('code-state', 'refused', { why: why(res) }, 'error');
  code = res.body;
  drawCode();
}

function drawCode() {
  const img = document.getElementById('qr');
  img.src = `/v1/codes/${code.id}/qr.png?scale=6&t=${code.refresh_at || ''}`;
  img.alt = HB.t('code_qr', { amount: HB.yuan(code.amount) });
  img.dataset.refreshAt = code.refresh_at || '';
  HB.show('qr', true);
}

async function tickCode() {
  if (!code) return;
  const res = await HB.webCall('GET', `/v1/codes/${code.id}`);
  if (res.status !== 200) return;
  const was = code.refresh_at;
  code = res.body;
  if (code.status === 'used') {
    HB.show('qr', false);
    say('code-state', 'code_paid', { amount: HB.yuan(code.amount) }, 'ok');
    code = null;
    return;
  }
  if (code.status !== 'active') {
    HB.show('qr', false);
    say('code-state', 'code_ended', {}, 'error');
    code = null;
    return;
  }
  if (code.refresh_at !== was) drawCode(); // a new token: a new picture
  const left = Math.max(0, Math.round(((code.refresh_at || code.expires_at) - Date.now()) / 1000));
  say('code-state', 'code_live', { s: left });
}

// ---- what arrives ----

function speakButton(p) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = HB.t('speak');
  b.setAttribute('aria-label', HB.t('speak') + ' ' + HB.yuan(p.amount));
  b.addEventListener('click', () => HB.speak(HB.t('spoken', { amount: HB.yuan(p.amount) })));
  return b;
}

async function refresh() {
  if (!me) return;
  const [pays, packets, settlements] = await Promise.all([
    HB.webCall('GET', '/v1/payments?limit=20'),
    HB.webCall('GET', '/v1/packets?limit=20'),
    HB.webCall('GET', '/v1/settlements?limit=20'),
  ]);
  if (pays.status === 200) {
    HB.fillTable(document.getElementById('payments'), pays.body.data
      .filter((p) => p.payee === me.account)
      .map((p) => [HB.when(p.created_at), HB.yuan(p.amount), HB.yuan(p.fee), speakButton(p)]));
    drawFees(pays.body.data.filter((p) => p.payee === me.account));
  }
  if (packets.status === 200) {
    HB.fillTable(document.getElementById('packets'), packets.body.data.map((p) => [
      HB.when(p.created_at), HB.yuan(p.total), `${p.claimed_count}/${p.count}`,
      HB.t(p.status === 'sent' ? 'sent_status' : p.status)]));
  }
  if (settlements.status === 200) {
    HB.fillTable(document.getElementById('settlements'), settlements.body.data.map((b) => {
      const a = document.createElement('a');
      a.href = `/v1/settlements/${b.id}/file`;
      a.textContent = HB.t('download');
      a.setAttribute('download', `${b.id}.csv`);
      return [b.date, HB.yuan(b.net), String(b.count), a];
    }));
  }
}

// ---- statistics (Chart.js, vendored from npm by the build) ----

function chart(id, type, labels, label, data) {
  if (typeof Chart === 'undefined') return;
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(document.getElementById(id), {
    type,
    data: { labels, datasets: [{ label, data, backgroundColor: '#c8102e', borderColor: '#8f0b20' }] },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: true } } },
  });
}

async function drawStats() {
  const now = Date.now();
  const res = await HB.webCall('GET', `/v1/stats/packets?from=${now - 7 * 86400000}&to=${now + 1}&sender=${me.account}`);
  if (res.status !== 200) return;
  const s = res.body;
  document.getElementById('claim-rate').textContent =
    HB.t('rate', { rate: (s.claim_rate_bp / 100).toFixed(2), claimed: s.claimed_count, shares: s.shares });
  const hours = s.claims_per_hour.slice(-48);
  chart('chart-hours', 'line', hours.map((h) => new Date(h.hour).getHours() + ':00'), HB.t('claims'), hours.map((h) => h.claims));
  chart('chart-histogram', 'bar', s.histogram.map((b) => HB.yuan(b.min) + '+'), HB.t('claims'), s.histogram.map((b) => b.count));
}

function drawFees(payments) {
  const days = {};
  for (const p of payments) {
    const d = new Date(p.created_at).toISOString().slice(0, 10);
    days[d] = (days[d] || 0) + p.fee;
  }
  const labels = Object.keys(days).sort();
  chart('chart-fees', 'bar', labels, HB.t('fees'), labels.map((d) => days[d] / 100));
}

// ---- start ----

document.addEventListener('DOMContentLoaded', async () => {
  HB.setup(STRINGS, () => { refresh(); if (me) drawStats(); });
  me = await HB.webSession();
  if (!me) return say('state', 'signed_out', {}, 'error');
  if (me.role !== 'merchant') {
    me = null;
    return say('state', 'not_merchant', {}, 'error');
  }
  document.getElementById('who').textContent = me.account;
  HB.show('logout', true);
  HB.show('panels', true);
  document.getElementById('logout').addEventListener('click', async () => {
    await HB.webCall('POST', '/v1/web/logout');
    location.replace('/dashboard');
  });
  await loadScenes();
  const draft = localStorage.getItem(DRAFT);
  if (draft) {
    HB.show('draft', true);
    document.getElementById('draft-continue').addEventListener('click', () => {
      setForm(JSON.parse(draft));
      HB.show('draft', false);
    });
    document.getElementById('draft-discard').addEventListener('click', () => {
      localStorage.removeItem(DRAFT);
      HB.show('draft', false);
      applyScene();
    });
  } else {
    applyScene();
  }
  document.getElementById('scene').addEventListener('change', () => { applyScene(); saveDraft(); });
  document.getElementById('packet-form').addEventListener('input', saveDraft);
  document.getElementById('packet-form').addEventListener('submit', sendPacket);
  document.getElementById('code-form').addEventListener('submit', showCode);
  refresh();
  drawStats();
  setInterval(refresh, 3000);
  setInterval(tickCode, 1000);
});
