#!/usr/bin/env bash
# HTTP benchmark: durable p2p transfers with person bearer tokens over keep-alive connections,
# and GET /healthz as the bare-HTTP ceiling, in one run against one fresh server.
#   bench/http.sh [path/to/hongbao]     (CONNECTIONS, DURATION, PEOPLE, THREADS override;
#                                        BENCH_DB=postgresql://... runs on that database,
#                                        which must not exist yet, instead of a SQLite file)
# Prints transfers/s, p50/p99 and the ratio transfers/s / healthz req/s, then the ledger check.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hongbao=${1:-$here/../build/release/hongbao}
connections=${CONNECTIONS:-64}
duration=${DURATION:-10}
people=${PEOPLE:-1000}
threads=${THREADS:-2}
. "$here/lib.sh"
bench_need_wrk bench/http.sh
bench_scratch
db=${BENCH_DB:-$dir/b.db}
"$hongbao" init --db "$db" --json > "$dir/admin.json"
"$hongbao" demo --db "$db" --people "$people" --tokens "$dir/tokens" > /dev/null
bench_serve "$hongbao" "$db"
HB_TOKENS="$dir/tokens" wrk -t"$threads" -c"$connections" -d"${duration}s" \
    -s "$here/transfers.lua" "$url" > "$dir/transfers.out"
wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/healthz.lua" "$url/healthz" \
    > "$dir/healthz.out"
transfers=$(sed -n 's/^RESULT //p' "$dir/transfers.out")
healthz=$(sed -n 's/^RESULT //p' "$dir/healthz.out")
kill -TERM "$pid"; wait "$pid" || true; pid=
check=$("$hongbao" ledger check --db "$db" --json)
python3 - "$transfers" "$healthz" "$check" "$connections" <<'PY'
import json, sys
t, h, c = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(json.dumps({"benchmark": "http", "connections": int(sys.argv[4]),
                  "transfers_per_s": t["rps"], "transfers_p50_ms": t["p50_ms"],
                  "transfers_p99_ms": t["p99_ms"], "transfers_non_2xx": t["non_2xx"],
                  "healthz_per_s": h["rps"], "healthz_p99_ms": h["p99_ms"],
                  "ratio": round(t["rps"] / h["rps"], 3),
                  "ledger_balanced": c["balanced"], "ledger_transfers": c["transfers"]}))
PY
