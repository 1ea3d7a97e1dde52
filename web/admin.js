// The admin console /admin: risk cases to resolve, the lists, the large-transaction report,
// the audit trail's verification and the ledger check.
'use strict';

const STRINGS = {
  zh: {
    title: '运营控制台', logout: '退出', health: '账本与审计', recheck: '重新检查', cases: '待处理风险案件',
    account: '账户', rule: '规则', reason: '原因', action: '处理', lists: '名单', list_kind: '名单类型',
    list_accounts: '账户', list_devices: '设备', list_codes: '收款码', value: '值', until: '截止',
    large: '大额交易报告（近 30 天）', day: '日期', amount: '金额', kind: '类型',
    dismiss: '驳回', confirm: '确认', unfreeze: '解冻', lift_restriction: '解除限制', lift_fuse: '解除熔断',
    ledger_ok: '账本平衡：{accounts} 个账户，{transfers} 笔转账。', ledger_bad: '账本检查未通过！',
    audit_ok: '审计链完整：{chains} 条链，{records} 条记录，{rows} 行账本。', audit_bad: '审计链断裂：{why}',
    checking: '正在检查…', no_cases: '没有待处理的案件。', resolved: '案件 {id} 已处理（{action}）。',
    refused: '未能完成：{why}', never: '永久',
    signed_out: '请使用一次性登录链接登录。', not_admin: '这个页面供运营人员使用。',
  },
  en: {
    title: 'Operations console', logout: 'Sign out', health: 'Ledger and audit', recheck: 'Check again', cases: 'Open risk cases',
    account: 'Account', rule: 'Rule', reason: 'Reason', action: 'Resolve', lists: 'Lists', list_kind: 'List',
    list_accounts: 'Accounts', list_devices: 'Devices', list_codes: 'Payment codes', value: 'Value', until: 'Until',
    large: 'Large transactions (last 30 days)', day: 'Day', amount: 'Amount', kind: 'Kind',
    dismiss: 'Dismiss', confirm: 'Confirm', unfreeze: 'Unfreeze', lift_restriction: 'Lift restriction', lift_fuse: 'Lift fuse',
    ledger_ok: 'The ledger balances: {accounts} accounts, {transfers} transfers.', ledger_bad: 'The ledger check FAILS!',
    audit_ok: 'The audit trail verifies: {chains} chains, {records} records, {rows} ledger rows.', audit_bad: 'The audit trail is broken: {why}',
    checking: 'Checking…', no_cases: 'No open cases.', resolved: 'Case {id} resolved ({action}).',
    refused: 'Not done: {why}', never: 'never',
    signed_out: 'Sign in with a one-time login link.', not_admin: 'This page is for operators.',
  },
};

let me = null;

function say(id, key, vars, kind) {
  const el = document.getElementById(id);
  el.textContent = key ? HB.t(key, vars) : '';
  el.className = (id === 'state' || id === 'case-state' ? 'state' : '') + (kind ? ' ' + kind : '') +
                 (id === 'state' ? ' card' : '') + (id === 'state' && !key ? ' hidden' : '');
}

async function checkHealth() {
  say('ledger', 'checking');
  say('audit', 'checking');
  const [ledger, audit] = await Promise.all([HB.webCall('GET', '/v1/ledger/check'), HB.webCall('GET', '/v1/audit/verify')]);
  if (ledger.status === 200 && ledger.body.balanced) {
    say('ledger', 'ledger_ok', { accounts: ledger.body.accounts, transfers: ledger.body.transfers }, 'ok');
  } else {
    say('ledger', 'ledger_bad', {}, 'error');
  }
  if (audit.status === 200 && audit.body.ok) {
    say('audit', 'audit_ok', { chains: audit.body.chains, records: audit.body.records, rows: audit.body.rows }, 'ok');
  } else {
    const why = audit.body && audit.body.broken ? `${audit.body.broken.node} #${audit.body.broken.seq} ${audit.body.broken.reason}` : String(audit.status);
    say('audit', 'audit_bad', { why }, 'error');
  }
}

function resolveButton(c, action) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = HB.t(action);
  b.setAttribute('aria-label', `${HB.t(action)} ${c.id}`);
  b.addEventListener('click', async () => {
    b.disabled = true;
    const res = await HB.webCall('POST', `/v1/risk/cases/${c.id}/resolve`, { action, note: 'console' });
    if (res.status === 200) {
      say('case-state', 'resolved', { id: c.id, action: HB.t(action) }, 'ok');
    } else {
      say('case-state', 'refused', { why: (res.body && res.body.error && res.body.error.message) || res.status }, 'error');
    }
    loadCases();
  });
  return b;
}

async function loadCases() {
  const res = await HB.webCall('GET', '/v1/risk/cases?status=open&limit=50');
  const tbody = document.getElementById('cases');
  if (res.status !== 200) return;
  if (res.body.data.length === 0) {
    HB.fillTable(tbody, [[HB.t('no_cases'), '', '', '']]);
    return;
  }
  HB.fillTable(tbody, res.body.data.map((c) => {
    const actions = document.createElement('div');
    actions.className = 'row';
    actions.append(resolveButton(c, 'dismiss'), resolveButton(c, 'confirm'));
    if (c.decision === 'freeze') actions.append(resolveButton(c, 'unfreeze'));
    if (c.decision === 'restrict') actions.append(resolveButton(c, 'lift_restriction'));
    if (c.decision === 'fuse') actions.append(resolveButton(c, 'lift_fuse'));
    return [c.account, c.rule, c.reason, actions];
  }));
}

async function loadList() {
  const kind = document.getElementById('list-kind').value;
  const res = await HB.webCall('GET', `/v1/risk/lists/${kind}?limit=100`);
  if (res.status !== 200) return;
  HB.fillTable(document.getElementById('lists'), res.body.data.map((e) => [
    e.value, e.reason, e.expires_at ? HB.when(e.expires_at) : HB.t('never')]));
}

async function loadLarge() {
  const day = (ms) => new Date(ms).toISOString().slice(0, 10);
  const now = Date.now();
  const res = await HB.webCall('GET', `/v1/reports/large-transactions?from=${day(now - 30 * 86400000)}&to=${day(now)}`);
  if (res.status !== 200) return;
  HB.fillTable(document.getElementById('large'), res.body.data.map((x) => [x.date, x.account, HB.yuan(x.amount), x.kind]));
}

document.addEventListener('DOMContentLoaded', async () => {
  HB.setup(STRINGS, () => { if (me) { loadCases(); checkHealth(); } });
  me = await HB.webSession();
  if (!me) return say('state', 'signed_out', {}, 'error');
  if (me.role !== 'admin' && me.role !== 'support') {
    me = null;
    return say('state', 'not_admin', {}, 'error');
  }
  document.getElementById('who').textContent = me.role;
  HB.show('logout', true);
  HB.show('panels', true);
  document.getElementById('logout').addEventListener('click', async () => {
    await HB.webCall('POST', '/v1/web/logout');
    location.replace('/admin');
  });
  document.getElementById('recheck').addEventListener('click', checkHealth);
  document.getElementById('list-kind').addEventListener('change', loadList);
  checkHealth();
  loadCases();
  loadList();
  loadLarge();
});
