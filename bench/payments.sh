#!/usr/bin/env bash
# Payment benchmark: POST /v1/payments through a merchant's static code (fee to fee revenue,
# net to the merchant's pending account), each request by one of PAYERS people with their own
# bearer session, and GET /healthz as the bare-HTTP ceiling, in one run against one server.
#   bench/payments.sh [path/to/hongbao]   (CONNECTIONS, DURATION, PAYERS, THREADS override)
# Prints payments/s and p99, the ratio payments/healthz, and the ledger check (which also
# proves the merchant's pending balance equals what its unsettled payments left there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hongbao=${1:-$here/../build/release/hongbao}
connections=${CONNECTIONS:-64}
duration=${DURATION:-5}
payers=${PAYERS:-5000}
threads=${THREADS:-2}
. "$here/lib.sh"
bench_need_wrk bench/payments.sh
bench_scratch
db=$dir/b.db
"$hongbao" init --db "$db" --json > /dev/null
"$hongbao" bench payments-setup --db "$db" --payers "$payers" --out "$dir/payers"
bench_serve "$hongbao" "$db"
export HB_WRK_THREADS=$threads
HB_PAYERS="$dir/payers" wrk -t"$threads" -c"$connections" -d"${duration}s" \
    -s "$here/payments.lua" "$url" > "$dir/payments.out"
wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/healthz.lua" "$url/healthz" \
    > "$dir/healthz.out"
payments=$(sed -n 's/^RESULT //p' "$dir/payments.out")
healthz=$(sed -n 's/^RESULT //p' "$dir/healthz.out")
kill -TERM "$pid"; wait "$pid" || true; pid=
check=$("$hongbao" ledger check --db "$db" --json)
python3 - "$payments" "$healthz" "$check" "$connections" <<'PY'
import json, sys
p, h, c = (json.loads(a) for a in sys.argv[1:4])
print(json.dumps({"benchmark": "payments", "connections": int(sys.argv[4]),
                  "payments_per_s": p["rps"], "payments_p50_ms": p["p50_ms"],
                  "payments_p99_ms": p["p99_ms"], "paid": p["paid"], "other": p["other"],
                  "healthz_per_s": h["rps"],
                  "ratio": round(p["rps"] / h["rps"], 3),
                  "ledger_balanced": c["balanced"],
                  "pending_mismatches": c["pending_mismatches"]}))
PY
