#!/usr/bin/env bash
# Risk benchmark: the transfer and payment benchmarks with every risk rule on ([risk]
# defaults, the night rule too) and with every rule off ([risk] enabled = false), in one run
# on one store, the two servers taking turns (on, off, off, on, ...) so that the store's
# growth and the machine's noise fall on both alike. The traffic passes every rule: verified
# people (real-name level 2) paying 0.01-0.99 at random within their limits, each from its
# own device, payments to a static code in varied amounts; only 2xx replies count.
#   bench/risk.sh [path/to/hongbao]   (ROUNDS, DURATION, CONNECTIONS, PEOPLE, PAYERS, THREADS)
# Prints the median 2xx/s of each benchmark with the rules on and off and the ratio on/off,
# then the ledger check.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hongbao=${1:-$here/../build/release/hongbao}
rounds=${ROUNDS:-3}
duration=${DURATION:-5}
connections=${CONNECTIONS:-64}
people=${PEOPLE:-5000}
payers=${PAYERS:-5000}
threads=${THREADS:-2}
. "$here/lib.sh"
bench_need_wrk bench/risk.sh
bench_scratch
db=$dir/b.db
"$hongbao" init --db "$db" --json > /dev/null
"$hongbao" demo --db "$db" --people "$people" --tokens "$dir/tokens" > /dev/null
"$hongbao" bench payments-setup --db "$db" --payers "$payers" --out "$dir/payers"
export HB_RISK_TRAFFIC=1 HB_WRK_THREADS=$threads
# each device pays far more often than a phone would: its per-device rate limit is lifted
export HONGBAO_RATE_LIMIT_DEVICE_PER_SECOND=1000000 HONGBAO_RATE_LIMIT_DEVICE_BURST=1000000

run_one() { # MODE ROUND: one server, both benchmarks; appends a JSON line to $dir/results
    if [ "$1" = on ]; then
        export HONGBAO_RISK_ENABLED=true HONGBAO_RISK_NIGHT_COUNT=20
    else
        export HONGBAO_RISK_ENABLED=false HONGBAO_RISK_NIGHT_COUNT=0
    fi
    bench_serve "$hongbao" "$db"
    HB_TOKENS="$dir/tokens" wrk -t"$threads" -c"$connections" -d"${duration}s" \
        -s "$here/transfers.lua" "$url" > "$dir/t.out"
    HB_PAYERS="$dir/payers" wrk -t"$threads" -c"$connections" -d"${duration}s" \
        -s "$here/payments.lua" "$url" > "$dir/p.out"
    kill -TERM "$pid"; wait "$pid" || true; pid=
    python3 - "$1" "$2" "$(sed -n 's/^RESULT //p' "$dir/t.out")" \
        "$(sed -n 's/^RESULT //p' "$dir/p.out")" >> "$dir/results" <<'PY'
import json, sys
t, p = json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(json.dumps({"mode": sys.argv[1], "round": int(sys.argv[2]),
                  "transfers_2xx_per_s": t["created_rps"], "transfers_non_2xx": t["non_2xx"],
                  "payments_2xx_per_s": p["rps"], "payments_other": p["other"]}))
PY
    tail -n 1 "$dir/results" >&2
}

for round in $(seq "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then run_one on "$round"; run_one off "$round"
    else run_one off "$round"; run_one on "$round"; fi
done
check=$("$hongbao" ledger check --db "$db" --json)
python3 - "$dir/results" "$check" "$connections" "$duration" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
check = json.loads(sys.argv[2])
def med(mode, key):
    return statistics.median(r[key] for r in runs if r["mode"] == mode)
out = {"benchmark": "risk", "rounds": len(runs) // 2, "seconds_each": int(sys.argv[4]),
       "connections": int(sys.argv[3])}
for k, name in (("transfers_2xx_per_s", "transfers"), ("payments_2xx_per_s", "payments")):
    on, off = med("on", k), med("off", k)
    out[name + "_rules_on"] = on
    out[name + "_rules_off"] = off
    out[name + "_ratio_on_off"] = round(on / off, 3)
out["non_2xx"] = sum(r["transfers_non_2xx"] + r["payments_other"] for r in runs)
out["ledger_balanced"] = check["balanced"]
print(json.dumps(out))
PY
