#!/usr/bin/env bash
# Red-packet grab benchmark: claims over HTTP on one hot packet (a provider's, 100,000 shares)
# against claims spread over 1,000 packets, each claim by a distinct claimer with its own
# bearer session, and GET /healthz as the bare-HTTP ceiling, in one run against one server.
#   bench/packets.sh [path/to/hongbao]   (CONNECTIONS, DURATION, CLAIMERS, THREADS override)
# Prints claims/s and p99 of both, the ratios hot/spread and each/healthz, the ledger check.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hongbao=${1:-$here/../build/release/hongbao}
connections=${CONNECTIONS:-64}
duration=${DURATION:-3}
claimers=${CLAIMERS:-120000}
threads=${THREADS:-2}
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y -qq wrk >/dev/null
    else
        echo "bench/packets.sh needs wrk: sudo apt-get install -y wrk" >&2
        exit 1
    fi
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/hongbao-bench.XXXXXX")
db=$dir/b.db
export HONGBAO_KEY_FILE=$dir/b.key
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
"$hongbao" init --db "$db" --json > /dev/null
"$hongbao" bench packets-setup --db "$db" --claimers "$claimers" --hot "$dir/hot" \
    --spread-out "$dir/spread"
HONGBAO_RATE_LIMIT_SESSION_PER_SECOND=1000000 HONGBAO_RATE_LIMIT_SESSION_BURST=1000000 \
    "$hongbao" serve --db "$db" --listen 127.0.0.1:0 2> "$dir/serve.log" &
pid=$!
port=
for _ in $(seq 400); do
    port=$(sed -n 's/.*"address":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$dir/serve.log" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { cat "$dir/serve.log" >&2; echo "bench/packets.sh: the server did not start" >&2; exit 1; }
url="http://127.0.0.1:$port"
export HB_WRK_THREADS=$threads
HB_CLAIMS="$dir/hot" wrk -t"$threads" -c"$connections" -d"${duration}s" \
    -s "$here/claims.lua" "$url" > "$dir/hot.out"
HB_CLAIMS="$dir/spread" wrk -t"$threads" -c"$connections" -d"${duration}s" \
    -s "$here/claims.lua" "$url" > "$dir/spread.out"
wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/healthz.lua" "$url/healthz" \
    > "$dir/healthz.out"
hot=$(sed -n 's/^RESULT //p' "$dir/hot.out")
spread=$(sed -n 's/^RESULT //p' "$dir/spread.out")
healthz=$(sed -n 's/^RESULT //p' "$dir/healthz.out")
kill -TERM "$pid"; wait "$pid" || true; pid=
check=$("$hongbao" ledger check --db "$db" --json)
python3 - "$hot" "$spread" "$healthz" "$check" "$connections" <<'PY'
import json, sys
hot, spread, h, c = (json.loads(a) for a in sys.argv[1:5])
print(json.dumps({"benchmark": "packets", "connections": int(sys.argv[5]),
                  "hot_claims_per_s": hot["rps"], "hot_p99_ms": hot["p99_ms"],
                  "hot_claimed": hot["claimed"], "hot_other": hot["other"],
                  "spread_claims_per_s": spread["rps"], "spread_p99_ms": spread["p99_ms"],
                  "spread_claimed": spread["claimed"], "spread_other": spread["other"],
                  "healthz_per_s": h["rps"],
                  "hot_over_spread": round(hot["rps"] / spread["rps"], 3),
                  "hot_over_healthz": round(hot["rps"] / h["rps"], 3),
                  "spread_over_healthz": round(spread["rps"] / h["rps"], 3),
                  "ledger_balanced": c["balanced"],
                  "escrow_mismatches": c["escrow_mismatches"]}))
PY
