#!/usr/bin/env bash
# How far the HTTP path alone can go: the transfers benchmark of bench/http.sh against builds
# that skip part of the work, each against its own healthz in the same run.
#   bench/ceiling.sh [ROUNDS]        (DURATION seconds per wrk run, default 4; PEOPLE 1000)
#
# The variants come from bench/ceiling/ceiling.patch, applied to a scratch copy of HEAD (a git
# worktree under $TMPDIR) and built there; the product never contains them. HB_CEILING picks
# one at run time:
#   real     the product's own path: auth, JSON, the engine, a durable SQLite commit
#   engine   handed to the engine as usual, but its writer touches no store and calls every
#            command a success: the cost of the wait (suspend, the writer and completer
#            threads, resume) without the store
#   resume   the connection suspended and resumed by the same thread at once: what
#            libmicrohttpd's suspend and resume cost by themselves
#   inline   answered at once as if done: auth, JSON, validation and the response only
# Each run is a fresh store (hongbao demo), wrk with 2 threads and 64 connections on
# POST /v1/transfers, then GET /healthz on the same server. Prints one JSON line per run and
# the median ratio of each variant. Needs git, cmake and a built web/vendor (make release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
rounds=${1:-3}
duration=${DURATION:-4}
people=${PEOPLE:-1000}
. "$here/lib.sh"
bench_need_wrk bench/ceiling.sh
bench_scratch
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null;
      git -C "$root" worktree remove --force "$dir/src" 2>/dev/null; rm -rf "$dir"' EXIT
[ -f "$root/web/vendor/chart.umd.js" ] || { echo "run make release first (web/vendor)" >&2; exit 1; }

git -C "$root" worktree add --detach -q "$dir/src" HEAD
git -C "$dir/src" apply "$here/ceiling/ceiling.patch" ||
    { echo "bench/ceiling/ceiling.patch no longer applies to HEAD; refresh it" >&2; exit 1; }
cp -r "$root/web/vendor" "$dir/src/web/"
cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$dir/build" --target hongbao -j "$(nproc)" > "$dir/build.log" 2>&1 ||
    { tail -20 "$dir/build.log" >&2; exit 1; }
hongbao=$dir/build/hongbao

run_variant() { # variant -> one JSON line
    local variant=$1 db=$dir/v.db
    rm -f "$db" "$db-wal" "$db-shm"
    "$hongbao" init --db "$db" --json > /dev/null
    "$hongbao" demo --db "$db" --people "$people" --tokens "$dir/tokens" > /dev/null
    if [ "$variant" = real ]; then
        bench_serve "$hongbao" "$db"
    else
        HB_CEILING=$variant bench_serve "$hongbao" "$db"
    fi
    HB_TOKENS="$dir/tokens" wrk -t2 -c64 -d"${duration}s" -s "$here/transfers.lua" "$url" \
        > "$dir/t.out"
    wrk -t2 -c64 -d"${duration}s" -s "$here/healthz.lua" "$url/healthz" > "$dir/h.out"
    kill -TERM "$pid"; wait "$pid" || true; pid=
    python3 - "$variant" "$(sed -n 's/^RESULT //p' "$dir/t.out")" \
        "$(sed -n 's/^RESULT //p' "$dir/h.out")" <<'PY'
import json, sys
t, h = json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(json.dumps({"variant": sys.argv[1], "transfers_per_s": t["rps"], "non_2xx": t["non_2xx"],
                  "p99_ms": t["p99_ms"], "healthz_per_s": h["rps"],
                  "ratio": round(t["rps"] / h["rps"], 3)}))
PY
}

: > "$dir/runs"
for _ in $(seq "$rounds"); do
    for variant in real engine resume inline; do
        run_variant "$variant" | tee -a "$dir/runs"
    done
done
python3 - "$dir/runs" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
out = {}
for v in ("real", "engine", "resume", "inline"):
    rs = [r for r in runs if r["variant"] == v]
    out[v] = {"transfers_per_s": statistics.median(r["transfers_per_s"] for r in rs),
              "ratio": statistics.median(r["ratio"] for r in rs)}
print(json.dumps({"benchmark": "ceiling", "medians": out}))
PY
