# Shared by the HTTP benchmarks (source it): wrk, a scratch directory, the server.
#   bench_need_wrk NAME          install wrk as root, or say how and exit
#   bench_scratch                $dir (removed at exit, with the server), $HONGBAO_KEY_FILE
#   bench_serve HONGBAO DB       start `hongbao serve` on a free port with rate limits lifted
#                                (the limiter still runs per request); sets $pid and $url

bench_need_wrk() {
    command -v wrk >/dev/null && return 0
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y -qq wrk >/dev/null
    else
        echo "$1 needs wrk: sudo apt-get install -y wrk" >&2
        exit 1
    fi
}

bench_scratch() {
    dir=$(mktemp -d "${TMPDIR:-/tmp}/hongbao-bench.XXXXXX")
    export HONGBAO_KEY_FILE=$dir/b.key
    pid=
    trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
}

bench_serve() {
    HONGBAO_RATE_LIMIT_SESSION_PER_SECOND=1000000 HONGBAO_RATE_LIMIT_SESSION_BURST=1000000 \
        "$1" serve --db "$2" --listen 127.0.0.1:0 2> "$dir/serve.log" &
    pid=$!
    local port=
    for _ in $(seq 400); do
        port=$(sed -n 's/.*"address":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$dir/serve.log" 2>/dev/null)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { cat "$dir/serve.log" >&2; echo "the server did not start" >&2; exit 1; }
    url="http://127.0.0.1:$port"
}
