// The pay page /p/{token}: a payment code's link for phone cameras.
'use strict';

const STRINGS = {
  zh: {
    title: '付款', login: '登录后付款', pay_to: '付款给', amount: '金额（元）', amount_help: '最多两位小数',
    pay: '确认付款', paid: '支付成功', speak: '朗读',
    spoken: '支付成功，{amount}元，{merchant}', no_session: '请在 App 中打开这个付款码链接。',
    invalid: '这不是本平台的付款码。', expired: '付款码已过期，请让商家刷新后重新扫码。',
    used: '这笔订单已经付过了。', cancelled: '付款码已被商家取消。',
    fused: '这个付款码已暂停收款，请联系商家。', blocked: '付款被风控拦截：{why}',
    bad_amount: '请输入正确的金额，例如 12.34。', funds: '零钱余额不足。',
    limit: '超出支付限额：{why}', session_expired: '登录已过期，请回到 App 重新打开。',
    busy: '网络繁忙，请稍后再试。', refused: '付款失败：{why}', paying: '正在付款…',
  },
  en: {
    title: 'Pay', login: 'Sign in to pay', pay_to: 'Pay to', amount: 'Amount (yuan)', amount_help: 'At most two decimals',
    pay: 'Pay now', paid: 'Paid', speak: 'Read aloud',
    spoken: 'Paid {amount} yuan to {merchant}', no_session: 'Open this payment link from the app.',
    invalid: 'This is not a payment code of this platform.', expired: 'This code has expired: ask the merchant to refresh it and scan again.',
    used: 'This order has been paid already.', cancelled: 'The merchant cancelled this code.',
    fused: 'This code takes no payments for now: ask the merchant.', blocked: 'Stopped by risk control: {why}',
    bad_amount: 'Enter an amount such as 12.34.', funds: 'Not enough money in your wallet.',
    limit: 'Above your payment limit: {why}', session_expired: 'Your session has expired: open the link from the app again.',
    busy: 'The network is busy, try again shortly.', refused: 'The payment failed: {why}', paying: 'Paying…',
  },
};

const data = HB.data();
const code = data.code || null;
let paid = null;
let stateKey = '';
let stateVars = {};
let stateKind = '';

function setState(key, vars, kind) {
  stateKey = key;
  stateVars = vars || {};
  stateKind = kind || '';
  const el = document.getElementById('state');
  el.textContent = key ? HB.t(key, stateVars) : '';
  el.className = 'state card' + (stateKind ? ' ' + stateKind : '') + (key ? '' : ' hidden');
}

function render() {
  setState(stateKey, stateVars, stateKind);
  if (paid) document.getElementById('paid-amount').textContent = HB.yuan(paid.amount) + ' 元';
}

function spokenText() {
  return HB.t('spoken', { amount: HB.yuan(paid.amount), merchant: code.merchant });
}

async function pay(event) {
  event.preventDefault();
  const body = { payload: location.origin + location.pathname };
  if (code.kind === 'static') {
    const amount = HB.fen(document.getElementById('amount').value);
    if (!amount) {
      document.getElementById('amount').setAttribute('aria-invalid', 'true');
      return setState('bad_amount', {}, 'error');
    }
    document.getElementById('amount').removeAttribute('aria-invalid');
    body.amount = amount;
  }
  const button = document.getElementById('pay');
  button.disabled = true;
  setState('paying', {});
  // one key per code and amount while the answer is unknown: a retry after a lost answer pays
  // once; a definite answer ends it, so that paying the same again is a new payment
  const purpose = 'pay_' + location.pathname + '_' + (body.amount || '');
  const res = await HB.call('POST', '/v1/payments', body, HB.idempotencyKey(purpose));
  if (res.status !== 0 && res.status !== 503 && res.status !== 429) HB.forgetKey(purpose);
  const err = res.body && res.body.error ? res.body.error : { code: '', message: String(res.status) };
  if (res.status === 201) {
    paid = res.body;
    HB.show('order', false);
    HB.show('done', true);
    setState('', {});
    render();
    document.getElementById('speak').focus();
    return;
  }
  button.disabled = false;
  if (res.status === 0 || res.status === 503 || res.status === 429) return setState('busy', {}, 'error');
  if (res.status === 401) return setState('session_expired', {}, 'error');
  const known = {
    CODE_EXPIRED: 'expired', CODE_USED: 'used', INVALID_CODE: 'invalid', CODE_FUSED: 'fused',
    RISK_BLOCKED: 'blocked', INSUFFICIENT_FUNDS: 'funds', LIMIT_EXCEEDED: 'limit',
  };
  if (known[err.code]) {
    const retry = ['LIMIT_EXCEEDED', 'INSUFFICIENT_FUNDS'].includes(err.code);
    if (!retry) button.disabled = true;
    return setState(known[err.code], { why: err.message }, 'error');
  }
  setState('refused', { why: err.message }, 'error');
}

document.addEventListener('DOMContentLoaded', () => {
  HB.setup(STRINGS, render);
  document.getElementById('speak').addEventListener('click', () => HB.speak(spokenText()));
  if (!code || code.status === 'invalid') {
    HB.show('order', false);
    return setState('invalid', {}, 'error');
  }
  if (!code.merchant) { // a token too old to say whose it was: only that it expired
    HB.show('order', false);
    return setState(code.status, {}, 'error');
  }
  document.getElementById('merchant').textContent = code.merchant;
  document.getElementById('memo').textContent = code.memo || '';
  if (code.kind === 'dynamic') {
    document.getElementById('fixed-amount').textContent = HB.yuan(code.amount) + ' 元';
  } else {
    HB.show('fixed-amount', false);
    HB.show('amount-field', true);
  }
  document.getElementById('form').addEventListener('submit', pay);
  if (code.status !== 'active') {
    document.getElementById('pay').disabled = true;
    return setState(code.status, {}, 'error');
  }
  if (!HB.session()) {
    document.getElementById('pay').disabled = true;
    if (HB.offerLogin()) return setState('', {});
    return setState('no_session', {}, 'error');
  }
});
