#!/usr/bin/env bash
# CLI smoke test: drives the hongbao binary end to end on a throwaway store.
# usage: smoke.sh /path/to/hongbao
# Stops at the first wrong result with a message saying what was expected.
set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 /path/to/hongbao" >&2
    exit 2
fi
HB=$1
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
case $HB in /*) ;; *) HB=$PWD/$HB ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hongbao-smoke.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
DB=$TMP/smoke.db

PASSED=0
OUT=$TMP/stdout
ERR=$TMP/stderr
RC=0

fail() {
    echo "smoke: FAIL: $*" >&2
    echo "--- last command's stdout:" >&2
    cat "$OUT" >&2 2>/dev/null
    echo "--- last command's stderr:" >&2
    cat "$ERR" >&2 2>/dev/null
    echo "smoke: $PASSED passed, 1 failed" >&2
    exit 1
}

pass() {
    PASSED=$((PASSED + 1))
}

# run ARGS...: runs hongbao, keeps stdout in $OUT, stderr in $ERR and the status in $RC.
run() {
    "$HB" "$@" >"$OUT" 2>"$ERR"
    RC=$?
    LAST="hongbao $*"
}

# expect_rc N DESCRIPTION
expect_rc() {
    [ "$RC" -eq "$1" ] || fail "$2: '$LAST' exited $RC, want $1"
    pass
}

# expect_nonzero DESCRIPTION
expect_nonzero() {
    [ "$RC" -ne 0 ] || fail "$1: '$LAST' exited 0, want non-zero"
    pass
}

# expect_out PATTERN DESCRIPTION (grep -E on stdout)
expect_out() {
    grep -Eq -- "$1" "$OUT" || fail "$2: stdout of '$LAST' lacks /$1/"
    pass
}

# expect_err PATTERN DESCRIPTION (grep -E on stderr)
expect_err() {
    grep -Eq -- "$1" "$ERR" || fail "$2: stderr of '$LAST' lacks /$1/"
    pass
}

# json_field NAME: the string value of "NAME":"..." in $OUT.
json_field() {
    sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$OUT" | head -n 1
}

ledger_snapshot() {
    "$HB" ledger check --db "$DB" --json 2>&1
}

# ---- help and usage --------------------------------------------------------------------

run --help
expect_rc 0 "top-level --help"
expect_out "usage" "top-level --help"

for cmd in init account topup withdraw transfer ledger bench sweep settle demo serve qr report; do
    run "$cmd" --help
    expect_rc 0 "$cmd --help"
    grep -qi "usage" "$OUT" || fail "$cmd --help: stdout lacks 'usage'"
    pass
done

run frobnicate
expect_rc 2 "unknown command"
expect_err "unknown command" "unknown command"

run
expect_rc 2 "no command"

# ---- store lifecycle -------------------------------------------------------------------

run account list --db "$DB"
expect_rc 3 "account list on a missing store"
[ ! -e "$DB" ] || fail "account list on a missing store created $DB"
pass

run init --db "$DB"
expect_rc 0 "init"
[ -f "$DB" ] || fail "init did not create $DB"
pass

run account list --db "$DB" --json
expect_rc 0 "account list after init"
ACCOUNTS_BEFORE=$(grep -c '"id":"acct_' "$OUT")
[ "$ACCOUNTS_BEFORE" -gt 0 ] || fail "init created no system accounts"
pass

run init --db "$DB"
expect_rc 0 "second init"
run account list --db "$DB" --json
expect_rc 0 "account list after second init"
ACCOUNTS_AFTER=$(grep -c '"id":"acct_' "$OUT")
[ "$ACCOUNTS_AFTER" -eq "$ACCOUNTS_BEFORE" ] ||
    fail "second init changed the account count: $ACCOUNTS_BEFORE -> $ACCOUNTS_AFTER"
pass

# ---- wallets and money -----------------------------------------------------------------

run account create --db "$DB" --owner alice --json
expect_rc 0 "create alice"
ALICE=$(json_field id)
[[ $ALICE =~ ^acct_[1-9][0-9]*$ ]] || fail "create alice: no account id in --json output"
pass

run account create --db "$DB" --owner bob --json
expect_rc 0 "create bob"
BOB=$(json_field id)
[[ $BOB =~ ^acct_[1-9][0-9]*$ ]] || fail "create bob: no account id in --json output"
[ "$ALICE" != "$BOB" ] || fail "alice and bob got the same id $ALICE"
pass

run topup --db "$DB" --account "$ALICE" --amount 100.50 --ref BANK-0001 --json
expect_rc 0 "topup 100.50"
expect_out '"amount":10050' "topup 100.50"

run account show --db "$DB" "$ALICE" --json
expect_rc 0 "show alice"
expect_out '"balance":10050' "alice's balance after topup"

run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount 30 --idempotency-key smoke-k1 --json
expect_rc 0 "transfer 30"
TR1=$(json_field id)
[[ $TR1 =~ ^tr_[1-9][0-9]*$ ]] || fail "transfer 30: no transfer id in --json output"
pass

run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount 30 --idempotency-key smoke-k1 --json
expect_rc 0 "transfer 30 again with the same key"
TR2=$(json_field id)
[ "$TR1" = "$TR2" ] || fail "retry with the same key gave $TR2, want $TR1"
pass

run account show --db "$DB" "$ALICE" --json
expect_rc 0 "show alice"
expect_out '"balance":7050' "alice's balance after an idempotent retry (moved once)"
run account show --db "$DB" "$BOB" --json
expect_rc 0 "show bob"
expect_out '"balance":3000' "bob's balance after an idempotent retry (moved once)"

run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount 31 --idempotency-key smoke-k1
expect_rc 1 "same key, different amount"
expect_err "IDEMPOTENCY_CONFLICT" "same key, different amount"

run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount 150
expect_rc 1 "overdraft"
expect_err "INSUFFICIENT_FUNDS" "overdraft"

run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount 200.01
expect_rc 1 "above the personal single limit"
expect_err "LIMIT_EXCEEDED" "above the personal single limit"

# ---- policy files -------------------------------------------------------------------------

run config check "$SCRIPT_DIR/../../docs/policy.ini"
expect_rc 0 "config check of the shipped policy"
expect_out ": ok" "config check of the shipped policy"
printf '[tier.personal]\nsingle_limit = 100.00\ndaily_limit = oops\n' > "$TMP/bad.ini"
run config check "$TMP/bad.ini"
expect_rc 2 "config check of a bad file"
expect_err "bad.ini:3:" "config check names the line"

# Bad amounts: refused with a message, and the ledger does not change.
BEFORE=$(ledger_snapshot)
for amount in 1.234 -5 0 "" 1e3 " 1" 01; do
    run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount "$amount"
    expect_nonzero "transfer amount '$amount'"
    [ -s "$ERR" ] || fail "transfer amount '$amount': no message on stderr"
    pass
    run topup --db "$DB" --account "$ALICE" --amount "$amount" --ref BANK-BAD
    expect_nonzero "topup amount '$amount'"
    [ -s "$ERR" ] || fail "topup amount '$amount': no message on stderr"
    pass
done
AFTER=$(ledger_snapshot)
[ "$BEFORE" = "$AFTER" ] || fail "bad amounts changed the ledger: $BEFORE -> $AFTER"
pass

run topup --db "$DB" --account "$ALICE" --amount 5
expect_nonzero "topup without --ref"
[ -s "$ERR" ] || fail "topup without --ref: no message on stderr"
pass
run withdraw --db "$DB" --account "$ALICE" --amount 5
expect_nonzero "withdraw without --ref"
AFTER=$(ledger_snapshot)
[ "$BEFORE" = "$AFTER" ] || fail "a movement without --ref changed the ledger"
pass

run transfer --db "$DB" --from "$ALICE" --to acct_999999 --amount 1
expect_rc 1 "transfer to a nonexistent account"
expect_err "NOT_FOUND" "transfer to a nonexistent account"

run account freeze --db "$DB" "$ALICE"
expect_rc 0 "freeze alice"
run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount 1
expect_rc 1 "transfer from a frozen account"
expect_err "ACCOUNT_FROZEN" "transfer from a frozen account"
run transfer --db "$DB" --from "$BOB" --to "$ALICE" --amount 1
expect_rc 1 "transfer to a frozen account"
expect_err "ACCOUNT_FROZEN" "transfer to a frozen account"
AFTER=$(ledger_snapshot)
[ "$BEFORE" = "$AFTER" ] || fail "refused transfers changed the ledger"
pass

run account unfreeze --db "$DB" "$ALICE"
expect_rc 0 "unfreeze alice"
run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount 0.50 --json
expect_rc 0 "transfer after unfreeze"
expect_out '"amount":50' "transfer after unfreeze"

run withdraw --db "$DB" --account "$BOB" --amount 10.25 --ref BANK-0002 --json
expect_rc 0 "withdraw"
expect_out '"amount":1025' "withdraw"

run account show --db "$DB" "$ALICE" --json
expect_rc 0 "show alice"
expect_out '"balance":7000' "alice's final balance"
run account show --db "$DB" "$BOB" --json
expect_rc 0 "show bob"
expect_out '"balance":2025' "bob's final balance"

run ledger check --db "$DB"
expect_rc 0 "ledger check"

run sweep --db "$DB" --json
expect_rc 0 "sweep with nothing due"
expect_out '"refunded":0,"refused":0' "sweep with nothing due"
run sweep --db "$DB" --bogus
expect_rc 2 "sweep with an unknown option"
run settle --db "$DB" --date 2026-01-01 --json
expect_rc 0 "settling a past day with nothing to settle"
expect_out '"created":0' "settling a past day with nothing to settle"
run settle --db "$DB" --date 2099-01-01
expect_rc 1 "settling a day that has not ended"
run settle --db "$DB" --date 2026-02-30
expect_rc 2 "settling a date that does not exist"
run settle --db "$DB"
expect_rc 2 "settling without a date"
run report large-tx --db "$DB" --from 2026-01-01 --to 2026-01-31
expect_rc 0 "the large-transaction report of an empty month"
expect_out "id,date,kind,account" "the large-transaction report's CSV header"
run report large-tx --db "$DB" --from 2026-02-01 --to 2026-01-01
expect_rc 2 "a report whose range runs backwards"
run report large-tx --db "$DB" --from 2026-01-01 --to 2026-01-31 --format xml
expect_rc 2 "a report in an unknown format"
run report nothing
expect_rc 2 "an unknown report"

run qr "hello" --svg "$TMP/q.svg"
expect_rc 0 "qr to an SVG file"
grep -q 'viewBox="0 0 29 29"' "$TMP/q.svg" || fail "qr: the SVG is not a version-1 symbol with its quiet zone"
pass
run qr ""
expect_rc 1 "qr of nothing"

# the demo sends a red packet; a packet that has not expired is not refunded
DEMO_DB=$TMP/demo.db
run init --db "$DEMO_DB"
expect_rc 0 "init for the demo"
run demo --db "$DEMO_DB" --people 2
expect_rc 0 "demo"
expect_out "^packet +pkt_1 .*claim token [A-Za-z0-9_-]{46}$" "demo's red packet"
run sweep --db "$DEMO_DB"
expect_rc 0 "sweep before any expiry"
expect_out "refunded 0 expired red packets" "sweep before any expiry"
run ledger check --db "$DEMO_DB" --json
expect_rc 0 "ledger check after the demo"
expect_out '"escrow_mismatches":0' "ledger check after the demo"
expect_out "balanced" "ledger check"

# ---- the configured maximum of one transfer ------------------------------------------------

BEFORE=$("$HB" ledger check --db "$DB" --json)
HONGBAO_GENERAL_TRANSFER_MAX=10 run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount 10.01
expect_rc 1 "transfer above HONGBAO_GENERAL_TRANSFER_MAX"
expect_err "LIMIT_EXCEEDED" "transfer above HONGBAO_GENERAL_TRANSFER_MAX"
HONGBAO_GENERAL_TRANSFER_MAX=abc run transfer --db "$DB" --from "$ALICE" --to "$BOB" --amount 1
expect_rc 2 "a malformed HONGBAO_GENERAL_TRANSFER_MAX"
[ "$("$HB" ledger check --db "$DB" --json)" = "$BEFORE" ] || fail "refused transfers changed the ledger"
pass

# ---- national-crypto mode seals personal data with SM4 ----------------------------------------

NDB=$TMP/national.db
run init --db "$NDB"
expect_rc 0 "init a second store"
HONGBAO_GENERAL_NATIONAL_CRYPTO=true run demo --db "$NDB" --people 2
expect_rc 0 "demo in national-crypto mode"
SUITES=$(sqlite3 "$NDB" "SELECT DISTINCT hex(substr(name_box, 1, 1)) || hex(substr(phone_box, 1, 1)) FROM customers")
[ "$SUITES" = "0202" ] || fail "national-crypto boxes should start with suite 02, got '$SUITES'"
pass
if grep -q "示例小店" "$NDB" "$NDB-wal" 2>/dev/null; then fail "a clear name is in the store"; fi
pass
run demo --db "$NDB" --people 1
expect_rc 0 "demo back in AES mode"
SUITES=$(sqlite3 "$NDB" "SELECT group_concat(DISTINCT hex(substr(name_box, 1, 1))) FROM customers")
[ "$SUITES" = "02,01" ] || [ "$SUITES" = "01,02" ] || fail "expected both suites, got '$SUITES'"
pass

# ---- the API over TLS ------------------------------------------------------------------------

if command -v openssl >/dev/null && command -v curl >/dev/null; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -keyout "$TMP/tls.key" -out "$TMP/tls.crt" -subj /CN=localhost >/dev/null 2>&1 ||
        fail "openssl could not make a test certificate"
    "$HB" serve --db "$DB" --listen 127.0.0.1:0 --tls-cert "$TMP/tls.crt" \
        --tls-key "$TMP/tls.key" 2> "$TMP/tls.log" &
    TLS_PID=$!
    TLS_PORT=
    for _ in $(seq "${SMOKE_WAIT_STEPS:-200}"); do
        TLS_PORT=$(sed -n 's/.*"address":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$TMP/tls.log")
        [ -n "$TLS_PORT" ] && break
        sleep 0.05
    done
    [ -n "$TLS_PORT" ] || fail "serve with TLS did not start: $(cat "$TMP/tls.log")"
    CODE=$(curl -s --cacert "$TMP/tls.crt" --resolve "localhost:$TLS_PORT:127.0.0.1" \
           --tlsv1.3 -o "$OUT" -w '%{http_code}' "https://localhost:$TLS_PORT/healthz")
    [ "$CODE" = 200 ] || fail "GET /healthz over TLS 1.3 answered $CODE"
    pass
    # under TLS a browser's session cookie is Secure
    LINK=$("$HB" login-link --db "$DB" --admin) || fail "login-link for the TLS check"
    curl -s --cacert "$TMP/tls.crt" --resolve "localhost:$TLS_PORT:127.0.0.1" -D "$TMP/tls.headers" \
         -o /dev/null -H 'Content-Type: application/json' -d "{\"token\":\"${LINK#*#t=}\"}" \
         "https://localhost:$TLS_PORT/v1/web/login"
    grep -qi '^set-cookie: hb_web=.*HttpOnly.*SameSite=Strict.*Secure' "$TMP/tls.headers" ||
        fail "the session cookie over TLS is not HttpOnly, SameSite=Strict and Secure: $(cat "$TMP/tls.headers")"
    pass
    CODE=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TLS_PORT/healthz" || true)
    [ "$CODE" != 200 ] || fail "plain HTTP was answered on the TLS port"
    pass
    kill -TERM "$TLS_PID"
    wait "$TLS_PID" || fail "serve with TLS did not stop cleanly"
    pass
    run serve --db "$DB" --tls-cert "$TMP/tls.crt"
    expect_rc 2 "a certificate without its key"
fi

# ---- the WAL size of serve's checkpointer: bounded, checked before anything starts -----------

run serve --db "$DB" --wal-pages 8
expect_rc 2 "--wal-pages below 16"
run serve --db "$DB" --wal-pages 40000
expect_rc 2 "--wal-pages above 32768"
HONGBAO_WAL_PAGES=lots run serve --db "$DB"
expect_rc 2 "a bad HONGBAO_WAL_PAGES"
expect_err "HONGBAO_WAL_PAGES must be a count" "a bad HONGBAO_WAL_PAGES"

# ---- login links ---------------------------------------------------------------------------

run login-link --db "$DB" --admin --public-url https://pay.example.com/
expect_rc 0 "login-link for an admin"
expect_out "^https://pay.example.com/login#t=hbl_" "login-link for an admin"
run login-link --db "$DB" --account "$ALICE"
expect_rc 1 "login-link for a person's account"
run login-link --db "$DB" --admin --support
expect_rc 2 "login-link for two roles"
run login-link --db "$DB" --admin --ttl 5
expect_rc 2 "login-link with a ttl below a minute"

# ---- key rotation ------------------------------------------------------------------------

run keys rotate --db "$DB"
expect_rc 0 "keys rotate"
expect_out "key 2 added" "keys rotate"
[ "$(wc -l < "$DB.key")" = 2 ] || fail "the key file does not hold two keys after a rotation"
[ "$(stat -c %a "$DB.key")" = 600 ] || fail "the rotated key file is not mode 600"
pass
run keys reseal --db "$DB"
expect_rc 0 "keys reseal"
expect_out "sealed again with the newest key, 0 left" "keys reseal"
run account list --db "$DB" --json
expect_rc 0 "account list after a key rotation"
run audit verify --db "$DB"
expect_rc 0 "audit verify after a key rotation"
run keys frobnicate
expect_rc 2 "keys with an unknown subcommand"

# ---- corruption is detected ------------------------------------------------------------

command -v sqlite3 >/dev/null 2>&1 || fail "sqlite3 is not installed"
ALICE_NUM=${ALICE#acct_}
sqlite3 "$DB" "UPDATE balances SET balance = balance + 1 WHERE account_id = $ALICE_NUM;" \
    >"$OUT" 2>"$ERR" || fail "sqlite3 could not corrupt the store"
CHANGED=$(sqlite3 "$DB" "SELECT balance FROM balances WHERE account_id = $ALICE_NUM;")
[ "$CHANGED" = "7001" ] || fail "the corruption did not take: balance is '$CHANGED'"
pass

run ledger check --db "$DB"
expect_rc 4 "ledger check on a corrupted store"
expect_out "NOT BALANCED" "ledger check on a corrupted store"

echo "smoke: $PASSED passed, 0 failed"
exit 0
