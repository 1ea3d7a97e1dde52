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
. "$here/lib.sh"
bench_need_wrk bench/packets.sh
bench_scratch
db=$dir/b.db
"$hongbao" init --db "$db" --json > /dev/null
"$hongbao" bench packets-setup --db "$db" --claimers "$claimers" --hot "$dir/hot" \
    --spread-out "$dir/spread"
bench_serve "$hongbao" "$db"
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
