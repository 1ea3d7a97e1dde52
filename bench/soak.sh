#!/usr/bin/env bash
# Soak test (make soak): the server on a fresh SQLite store with 1,000 people under a paced
# mixed load (bench/soak.lua: transfers, idempotent retries, balance reads, statements) for
# SOAK_SECONDS (default 3600), sampling the server's RSS every 10 s. Passes when there was no
# non-2xx answer and no socket error, the ledger is balanced, and RSS at the end is within
# SOAK_RSS_GROWTH_PCT (default 10) percent of RSS after the warm-up (the first tenth).
#   bench/soak.sh [path/to/hongbao]    (SOAK_SECONDS, CONNECTIONS, SOAK_PAUSE_MS override)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hongbao=${1:-$here/../build/release/hongbao}
seconds=${SOAK_SECONDS:-3600}
connections=${CONNECTIONS:-16}
growth_pct=${SOAK_RSS_GROWTH_PCT:-10}
dir=$(mktemp -d "${TMPDIR:-/tmp}/hongbao-soak.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
"$hongbao" init --db "$dir/s.db" --json >/dev/null
"$hongbao" demo --db "$dir/s.db" --people 1000 --tokens "$dir/tokens" >/dev/null
HONGBAO_RATE_LIMIT_SESSION_PER_SECOND=1000000 HONGBAO_RATE_LIMIT_SESSION_BURST=1000000 \
    "$hongbao" serve --db "$dir/s.db" --listen 127.0.0.1:0 2>"$dir/serve.log" &
pid=$!
port=
for _ in $(seq 200); do
    port=$(sed -n 's/.*"address":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$dir/serve.log")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { cat "$dir/serve.log" >&2; exit 1; }
HB_TOKENS="$dir/tokens" wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s \
    -s "$here/soak.lua" "http://127.0.0.1:$port" >"$dir/wrk.out" 2>&1 &
wrk_pid=$!
: >"$dir/rss"
while kill -0 "$wrk_pid" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$pid/status" >>"$dir/rss"
    sleep 10
done
wait "$wrk_pid"
result=$(sed -n 's/^RESULT //p' "$dir/wrk.out")
kill -TERM "$pid"
wait "$pid"
pid=
check=$("$hongbao" ledger check --db "$dir/s.db" --json)
python3 - "$result" "$check" "$dir/rss" "$growth_pct" <<'PY'
import json, sys
r, c = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rss = [int(x) for x in open(sys.argv[3]) if x.strip()]
warm = rss[max(1, len(rss) // 10) - 1]
end = rss[-1]
growth = 100.0 * (end - warm) / warm
ok = r["non_2xx"] == 0 and r["socket_errors"] == 0 and c["balanced"] and growth <= float(sys.argv[4])
print(json.dumps({"benchmark": "soak", "seconds": r["seconds"], "requests": r["requests"],
                  "rps": r["rps"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
                  "non_2xx": r["non_2xx"], "socket_errors": r["socket_errors"],
                  "rss_kib_after_warmup": warm, "rss_kib_end": end,
                  "rss_kib_max": max(rss), "rss_growth_pct": round(growth, 1),
                  "ledger_balanced": c["balanced"], "transfers": c["transfers"], "ok": ok}))
sys.exit(0 if ok else 1)
PY
