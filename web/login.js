// /login#t=hbl_...: a one-time login link opens a browser session, then the console.
'use strict';

const STRINGS = {
  zh: { title: '登录', confirm: '用这个链接登录', ask: '这是一个一次性登录链接。确认是你申请的再登录。', signing_in: '正在登录…', no_link: '请使用管理员发给你的一次性登录链接。',
        failed: '登录链接无效、已使用或已过期，请重新申请。', busy: '网络繁忙，请刷新重试。' },
  en: { title: 'Sign in', confirm: 'Sign in with this link', ask: 'This is a one-time login link. Sign in only if you asked for it.', signing_in: 'Signing in…', no_link: 'Use the one-time login link an admin gave you.',
        failed: 'The login link is unknown, used or expired: ask for a new one.', busy: 'The network is busy: reload to try again.' },
};

let stateKey = 'signing_in';
function setState(key) {
  stateKey = key;
  document.getElementById('state').textContent = HB.t(key);
}

document.addEventListener('DOMContentLoaded', async () => {
  HB.setup(STRINGS, () => setState(stateKey));
  const m = /(?:^#|&)t=(hbl_[A-Za-z0-9_-]+)/.exec(location.hash);
  history.replaceState(null, '', location.pathname); // the token leaves the address bar
  if (!m) return setState('no_link');
  // a link someone else sent must not sign this browser in unasked (login CSRF): confirm
  setState('ask');
  HB.show('confirm-step', true);
  await new Promise((resolve) => document.getElementById('confirm').addEventListener('click', resolve, { once: true }));
  HB.show('confirm-step', false);
  setState('signing_in');
  try {
    const res = await fetch('/v1/web/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                               credentials: 'same-origin', body: JSON.stringify({ token: m[1] }) });
    if (res.status !== 200) return setState(res.status === 401 ? 'failed' : 'busy');
    const who = await res.json();
    location.replace(who.role === 'merchant' ? '/dashboard' : '/admin');
  } catch (e) {
    setState('busy');
  }
});
