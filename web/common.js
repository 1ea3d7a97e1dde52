// Shared by the H5 pages: the language switch, the person's bearer session (passed by the
// operator's app in the URL fragment, never sent to the server in a URL), and JSON calls.
'use strict';

const HB = (() => {
  let strings = { zh: {}, en: {} };
  let lang = localStorage.getItem('hb_lang') === 'en' ? 'en' : 'zh';

  function t(key, vars) {
    let text = (strings[lang] && strings[lang][key]) || strings.zh[key] || key;
    for (const [k, v] of Object.entries(vars || {})) text = text.replace('{' + k + '}', String(v));
    return text;
  }

  function apply() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-label]')) {
      el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    }
    const button = document.getElementById('lang');
    if (button) button.textContent = lang === 'zh' ? 'English' : '中文';
  }

  function setup(table, onChange) {
    strings = table;
    apply();
    const button = document.getElementById('lang');
    if (button) {
      button.addEventListener('click', () => {
        lang = lang === 'zh' ? 'en' : 'zh';
        localStorage.setItem('hb_lang', lang);
        apply();
        if (onChange) onChange();
      });
    }
  }

  // The session: from "#s=hbs_..." (then removed from the address bar), else this tab's.
  function session() {
    const m = /(?:^#|&)s=(hbs_[A-Za-z0-9_-]+)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem('hb_session', m[1]);
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem('hb_session');
  }

  function data() {
    const el = document.getElementById('hb-data');
    try { return JSON.parse(el.textContent); } catch (e) { return {}; }
  }

  // A key for a state-changing call, kept per purpose so that a retry is the same request.
  function idempotencyKey(purpose) {
    const name = 'hb_idem_' + purpose;
    let key = sessionStorage.getItem(name);
    if (!key) {
      key = freshKey();
      sessionStorage.setItem(name, key);
    }
    return key;
  }

  function forgetKey(purpose) {
    sessionStorage.removeItem('hb_idem_' + purpose);
  }

  // A JSON call with the bearer session: {status, body}; status 0 when the network failed.
  async function call(method, path, body, idemKey) {
    const headers = { Authorization: 'Bearer ' + session() };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (idemKey) headers['Idempotency-Key'] = idemKey;
    try {
      const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      let json = null;
      try { json = await res.json(); } catch (e) { json = null; }
      return { status: res.status, body: json };
    } catch (e) {
      return { status: 0, body: null };
    }
  }

  function yuan(fen) {
    const sign = fen < 0 ? '-' : '';
    const abs = Math.abs(fen);
    return sign + Math.floor(abs / 100) + '.' + String(abs % 100).padStart(2, '0');
  }

  // "12.34" -> 1234 fen; null when it is not an amount of at most two decimals.
  function fen(text) {
    const m = /^\s*(\d{1,13})(?:\.(\d{1,2}))?\s*$/.exec(text);
    if (!m) return null;
    return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
  }

  function speak(text) {
    if (!('speechSynthesis' in window)) return false;
    const u = new SpeechSynthesisUtterance(text);
    u.lang = lang === 'zh' ? 'zh-CN' : 'en-US';
    speechSynthesis.cancel();
    speechSynthesis.speak(u);
    return true;
  }

  // The operator's login step for a person without a session (policy [web] login_url): it
  // comes back to this page with the session in the fragment.
  function offerLogin() {
    const url = data().login_url;
    if (!url) return false;
    const a = document.getElementById('login');
    a.href = url + (url.includes('?') ? '&' : '?') + 'return=' + encodeURIComponent(location.href);
    show('login-step', true);
    return true;
  }

  function show(id, visible) {
    document.getElementById(id).classList.toggle('hidden', !visible);
  }

  // The browser session of an admin, support or merchant (cookie hb_web): who and its CSRF
  // token, or null when there is none.
  let web = null;
  async function webSession() {
    try {
      const res = await fetch('/v1/web/session', { credentials: 'same-origin' });
      if (res.status !== 200) return null;
      web = await res.json();
      return web;
    } catch (e) {
      return null;
    }
  }

  // A JSON call with the session cookie (and the CSRF token when it changes something).
  async function webCall(method, path, body, idemKey) {
    const headers = {};
    if (method !== 'GET') headers['X-CSRF-Token'] = web ? web.csrf : '';
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (idemKey) headers['Idempotency-Key'] = idemKey;
    try {
      const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
      let json = null;
      try { json = await res.json(); } catch (e) { json = null; }
      return { status: res.status, body: json };
    } catch (e) {
      return { status: 0, body: null };
    }
  }

  function freshKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // A table body from rows of cells (text only: never HTML).
  function fillTable(tbody, rows) {
    tbody.replaceChildren();
    for (const cells of rows) {
      const tr = document.createElement('tr');
      for (const cell of cells) {
        const td = document.createElement('td');
        if (cell instanceof Node) td.append(cell); else td.textContent = cell;
        tr.append(td);
      }
      tbody.append(tr);
    }
  }

  function when(ms) {
    return new Date(ms).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
  }

  return { setup, t, session, data, idempotencyKey, forgetKey, call, yuan, fen, speak, show, offerLogin, webSession, webCall,
           freshKey, fillTable, when, get lang() { return lang; } };
})();
