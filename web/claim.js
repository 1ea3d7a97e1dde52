// The claim page /c/{token}: open the red packet, see the amount won and who got what.
'use strict';

const STRINGS = {
  zh: {
    title: '红包', login: '登录后领取', open: '開', open_label: '拆开红包', you_got: '你抢到了',
    from: '{name} 的红包', claims: '领取详情', best: '手气最佳', you: '（我）',
    summary: '已领取 {n}/{count} 个，共 {claimed}/{total} 元',
    loading: '正在加载…', no_session: '请在 App 中打开这个红包链接。',
    not_found: '这个红包不存在，或链接有误。', expired: '红包已过期，未领取的金额已退回。',
    empty: '手慢了，红包派完了。', already: '你已经领过这个红包了。', claimed: '已存入零钱。',
    own: '不能领取自己发的红包。', session_expired: '登录已过期，请回到 App 重新打开。',
    busy: '网络繁忙，请稍后再试。', refused: '暂时无法领取：{why}', refunded: '红包已退回。',
  },
  en: {
    title: 'Red packet', login: 'Sign in to claim', open: 'Open', open_label: 'Open the red packet', you_got: 'You got',
    from: 'A red packet from {name}', claims: 'Who got what', best: 'Best luck', you: ' (you)',
    summary: '{n} of {count} claimed, {claimed} of {total} yuan',
    loading: 'Loading…', no_session: 'Open this red packet link from the app.',
    not_found: 'No such red packet, or the link is wrong.', expired: 'This red packet has expired; what was left went back to the sender.',
    empty: 'Too late: every share has been taken.', already: 'You claimed this red packet already.', claimed: 'Added to your wallet.',
    own: 'You cannot claim your own red packet.', session_expired: 'Your session has expired: open the link from the app again.',
    busy: 'The network is busy, try again shortly.', refused: 'Cannot claim now: {why}', refunded: 'This red packet was refunded.',
  },
};

const token = decodeURIComponent(location.pathname.split('/').pop());
const data = HB.data();
let packet = null;
let stateKey = 'loading';
let stateVars = {};

function setState(key, vars, kind) {
  stateKey = key;
  stateVars = vars || {};
  const el = document.getElementById('state');
  el.textContent = key ? HB.t(key, stateVars) : '';
  el.className = 'state card' + (kind ? ' ' + kind : '') + (key ? '' : ' hidden');
}

function render() {
  setState(stateKey, stateVars, document.getElementById('state').classList.contains('error') ? 'error' : '');
  if (!packet) return;
  document.getElementById('from').textContent = HB.t('from', { name: packet.sender_name || '' });
  document.getElementById('wishing').textContent = packet.wishing;
  const list = document.getElementById('claims');
  list.replaceChildren();
  for (const c of packet.claims || []) {
    const li = document.createElement('li');
    if (c.claimer) li.classList.add('mine');
    const who = document.createElement('span');
    who.textContent = c.claimer_name + (c.claimer ? HB.t('you') : '');
    if (c.best_luck) {
      const best = document.createElement('span');
      best.className = 'best';
      best.textContent = HB.t('best');
      who.append(best);
    }
    const amount = document.createElement('span');
    amount.textContent = HB.yuan(c.amount) + ' 元';
    li.append(who, amount);
    list.append(li);
  }
  document.getElementById('summary').textContent = HB.t('summary', {
    n: packet.claimed_count, count: packet.count,
    claimed: HB.yuan(packet.claimed_amount), total: HB.yuan(packet.total),
  });
  HB.show('claims-card', (packet.claims || []).length > 0);
}

function mine() {
  return packet && (packet.claims || []).find((c) => c.claimer);
}

function showWon(amount) {
  document.getElementById('amount').textContent = HB.yuan(amount) + ' 元';
  HB.show('open', false);
  HB.show('result', true);
  document.getElementById('result').classList.add('won');
}

async function load(justClaimed) {
  const res = await HB.call('GET', '/v1/packets/' + encodeURIComponent(data.packet) +
                            '?token=' + encodeURIComponent(token) + '&claims_limit=100');
  if (res.status === 401) return setState('session_expired', {}, 'error');
  if (res.status === 404) return setState('not_found', {}, 'error');
  if (res.status !== 200) return setState('busy', {}, 'error');
  packet = res.body;
  const m = mine();
  if (m) {
    showWon(m.amount);
    setState(justClaimed ? 'claimed' : 'already', {}, 'ok');
  } else if (packet.status === 'expired') {
    setState('expired', {}, 'error');
  } else if (packet.status === 'refunded') {
    setState('refunded', {}, 'error');
  } else if (packet.status === 'claimed_out') {
    setState('empty', {}, 'error');
  } else {
    setState('', {});
  }
  document.getElementById('open').disabled = !!m || packet.status !== 'sent';
  render();
}

async function openPacket() {
  const button = document.getElementById('open');
  button.disabled = true;
  button.classList.add('spinning');
  const res = await HB.call('POST', '/v1/packets/' + encodeURIComponent(data.packet) + '/claims',
                            { token }, HB.idempotencyKey('claim_' + data.packet));
  button.classList.remove('spinning');
  const code = res.body && res.body.error ? res.body.error.code : '';
  if (res.status === 201) {
    showWon(res.body.amount);
    setState('claimed', {}, 'ok');
  } else if (code === 'ALREADY_CLAIMED') {
    setState('already', {}, 'ok');
  } else if (code === 'PACKET_EMPTY') {
    setState('empty', {}, 'error');
  } else if (code === 'PACKET_EXPIRED') {
    setState('expired', {}, 'error');
  } else if (res.status === 401) {
    setState('session_expired', {}, 'error');
  } else if (res.status === 404) {
    setState('not_found', {}, 'error');
  } else if (res.status === 403 && code === 'FORBIDDEN') {
    setState('own', {}, 'error');
  } else if (res.status === 0 || res.status === 503 || res.status === 429) {
    setState('busy', {}, 'error');
    button.disabled = false; // the same Idempotency-Key makes a retry safe
    return;
  } else {
    setState('refused', { why: (res.body && res.body.error && res.body.error.message) || res.status }, 'error');
  }
  await load(res.status === 201);
}

document.addEventListener('DOMContentLoaded', () => {
  HB.setup(STRINGS, render);
  document.getElementById('open').addEventListener('click', openPacket);
  if (!data.packet) {
    HB.show('envelope', false);
    return setState('not_found', {}, 'error');
  }
  if (!HB.session()) {
    document.getElementById('open').disabled = true;
    if (HB.offerLogin()) return setState('', {});
    return setState('no_session', {}, 'error');
  }
  setState('loading', {});
  load();
});
