#!/usr/bin/env bash
# PostgreSQL benchmark: in one run, on one throwaway PostgreSQL (fsync on, synchronous_commit
# on), on this machine:
#   1. pgbench's built-in TPC-B-like script (one bank transfer per transaction, durable),
#      scale 10, 16 clients, 2 threads;
#   2. hongbao's in-process ledger benchmark (durable transfers through the engine: group
#      commit, one transaction per batch);
#   3. hongbao's HTTP benchmark (bench/http.sh: person bearer sessions, 64 connections).
# Prints each figure and the ratios hongbao transfers/s / pgbench tps.
#   bench/pg.sh [path/to/hongbao]   (PGBENCH_SECONDS, ACCOUNTS, TRANSFERS, DURATION override)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hongbao=${1:-$here/../build/release/hongbao}
pgbench_seconds=${PGBENCH_SECONDS:-15}
accounts=${ACCOUNTS:-100000}
transfers=${TRANSFERS:-1000000}

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
dir=$(mktemp -d "${TMPDIR:-/tmp}/hongbao-pgbench.XXXXXX")
trap '"$here/../scripts/pg-throwaway.sh" stop "$dir"' EXIT
url=$("$here/../scripts/pg-throwaway.sh" start "$dir")
port=$(cat "$dir/port")

"$pgbin/createdb" -h 127.0.0.1 -p "$port" -U hongbao pgbench
"$pgbin/pgbench" -h 127.0.0.1 -p "$port" -U hongbao -i -s 10 -q pgbench >/dev/null 2>&1
"$pgbin/pgbench" -h 127.0.0.1 -p "$port" -U hongbao -c 16 -j 2 -T "$pgbench_seconds" pgbench \
    >"$dir/pgbench.out" 2>&1
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$dir/pgbench.out" | head -1)
pg_latency=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$dir/pgbench.out" | head -1)

export HONGBAO_KEY_FILE=$dir/hongbao.key
ledger=$("$hongbao" bench ledger --db "$url/ledger" --accounts "$accounts" --transfers "$transfers" \
    --threads 2 --window 32768 --batch 32768 | tail -1)
http=$(BENCH_DB="$url/http" "$here/http.sh" "$hongbao" | tail -1)

python3 - "$tps" "$pg_latency" "$ledger" "$http" <<'PY'
import json, sys
tps, lat = float(sys.argv[1]), float(sys.argv[2])
ledger, http = json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(json.dumps({
    "benchmark": "postgresql",
    "pgbench_tpcb_tps": round(tps), "pgbench_latency_ms": lat,
    "ledger_transfers_per_s": ledger["transfers_per_s"],
    "ledger_ratio_to_pgbench": round(ledger["transfers_per_s"] / tps, 2),
    "http_transfers_per_s": http["transfers_per_s"], "http_p99_ms": http["transfers_p99_ms"],
    "http_ratio_to_pgbench": round(http["transfers_per_s"] / tps, 2),
    "http_ledger_balanced": http["ledger_balanced"]}))
PY
