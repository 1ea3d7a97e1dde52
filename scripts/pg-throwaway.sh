#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and benchmarks: initdb in a temporary directory, listen on
# a Unix socket in it (and on a free loopback port), stop and remove everything on `stop`.
#
#   scripts/pg-throwaway.sh start DIR   initdb + start; prints the base URL (no database name)
#   scripts/pg-throwaway.sh stop DIR    stop the server and remove DIR
#   scripts/pg-throwaway.sh restart DIR stop (fast: connections are cut) and start again
#   scripts/pg-throwaway.sh start-pair DIR  a primary (DIR/primary) with a synchronous standby
#                                       (DIR/standby); prints both URLs, primary first
#   scripts/pg-throwaway.sh kill DIR    stop the server in DIR at once (a crash: -m immediate)
#   scripts/pg-throwaway.sh promote DIR make the standby in DIR the primary
#   scripts/pg-throwaway.sh run CMD...  run CMD with HB_TEST_PG set to a server's URL: the one
#                                       in $HB_TEST_PG_SERVER, else a throwaway started and
#                                       stopped around CMD (the tests run on PostgreSQL when
#                                       HB_TEST_PG is set; HB_TEST_PG_DIR names the server's
#                                       directory, for `restart`)
#   scripts/pg-throwaway.sh around CMD...  start one, run CMD with HB_TEST_PG_SERVER set (so
#                                       that every `run` inside shares it), stop
#
# As root the server runs as the `postgres` user (initdb refuses root). Durability is
# PostgreSQL's default (fsync on, synchronous_commit on): benchmarks measure real commits.
set -euo pipefail

pgbin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    done
    command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
    echo "pg-throwaway: PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local dir=$1 bin port
    bin=$(pgbin)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U hongbao -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
EOF
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "postgresql://hongbao@127.0.0.1:$port"
}

stop() {
    local dir=$1 bin d
    bin=$(pgbin)
    for d in "$dir" "$dir/primary" "$dir/standby"; do
        if [ -d "$d/data" ]; then
            as_owner "$bin/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$dir"
}

# A primary (DIR/primary) with a synchronous streaming standby (DIR/standby): a commit is
# acknowledged only once the standby has it on disk, so losing the primary's site loses
# nothing acknowledged. Prints the primary's URL, then the standby's.
start_pair() {
    local dir=$1 bin purl pport sport state=""
    bin=$(pgbin)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    purl=$(start "$dir/primary")
    pport=$(cat "$dir/primary/port")
    mkdir -p "$dir/standby"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/standby"
    as_owner "$bin/pg_basebackup" -h 127.0.0.1 -p "$pport" -U hongbao -D "$dir/standby/data" \
        -R -X stream >"$dir/standby/basebackup.log" 2>&1 ||
        { cat "$dir/standby/basebackup.log" >&2; exit 1; }
    sport=$(free_port)
    {
        echo "port = $sport"
        echo "unix_socket_directories = '$dir/standby'"
        echo "synchronous_standby_names = ''"
    } | as_owner tee -a "$dir/standby/data/postgresql.conf" >/dev/null
    echo "primary_conninfo = 'host=127.0.0.1 port=$pport user=hongbao application_name=standby1'" |
        as_owner tee -a "$dir/standby/data/postgresql.auto.conf" >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/standby/data" -l "$dir/standby/server.log" -w -t 60 start \
        >/dev/null || { cat "$dir/standby/server.log" >&2; exit 1; }
    echo "$sport" >"$dir/standby/port"
    # Only now make commits wait for the standby, and wait until it streams synchronously.
    psql -XAtq "$purl/postgres" -c "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" \
        >/dev/null
    psql -XAtq "$purl/postgres" -c "SELECT pg_reload_conf()" >/dev/null
    for _ in $(seq 300); do
        state=$(psql -XAtq "$purl/postgres" -c \
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")
        [ "$state" = "sync" ] && break
        sleep 0.1
    done
    if [ "$state" != "sync" ]; then
        echo "pg-throwaway: the standby did not become synchronous" >&2
        exit 1
    fi
    echo "$purl"
    echo "postgresql://hongbao@127.0.0.1:$sport"
}

restart() {
    local dir=$1 bin
    bin=$(pgbin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
}

case "${1:-}" in
start) start "$2" ;;
start-pair) start_pair "$2" ;;
stop) stop "$2" ;;
restart) restart "$2" ;;
kill) as_owner "$(pgbin)/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null ;;
promote) as_owner "$(pgbin)/pg_ctl" -D "$2/data" -w promote >/dev/null ;;
run)
    shift
    if [ -n "${HB_TEST_PG_SERVER:-}" ]; then
        HB_TEST_PG=$HB_TEST_PG_SERVER exec "$@"
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/hongbao-pg.XXXXXX")
    trap 'stop "$dir"' EXIT
    url=$(start "$dir")
    HB_TEST_PG=$url HB_TEST_PG_DIR=$dir "$@"
    ;;
around)
    shift
    dir=$(mktemp -d "${TMPDIR:-/tmp}/hongbao-pg.XXXXXX")
    trap 'stop "$dir"' EXIT
    url=$(start "$dir")
    HB_TEST_PG_SERVER=$url HB_TEST_PG_DIR=$dir "$@"
    ;;
*)
    echo "usage: $0 start|start-pair|stop|restart|kill|promote DIR | run|around CMD..." >&2
    exit 2
    ;;
esac
