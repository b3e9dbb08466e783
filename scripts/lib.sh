# Shared shell helpers for usage_meter's scripts: dependencies and a throwaway PostgreSQL cluster.
# Source it; do not run it.

UM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UM_PG_BIN="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"

um_log() { printf '\n== %s\n' "$*"; }
# um_expect FILE REGEX...: every REGEX (a grep basic regular expression) matches a line of FILE; names each one that does not.
um_expect() {
    local file=$1 pattern rc=0
    shift
    for pattern in "$@"; do
        grep -q -- "$pattern" "$file" || { echo "expected in $file, not found: $pattern"; rc=1; }
    done
    return $rc
}

# Installs the Debian packages the build and the tests need (only those missing).
um_deps() {
    local packages=(postgresql-15 postgresql-client-15 postgresql-server-dev-15 libpq-dev g++ make cmake
                    libgtest-dev googletest pkg-config tzdata clang-format-14 nlohmann-json3-dev
                    postgresql-15-cron prometheus-postgres-exporter curl postgresql-15-plproxy
                    debhelper dpkg-dev postgresql-server-dev-all python3 git)  # this line: tests/stages/90-package.sh
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        um_log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    UM_PG_BIN="$(pg_config --bindir)"
}

# Builds and installs the extension into the server's directories.
um_build_install() {
    um_log "building and installing the extension"
    make -C "$UM_ROOT" -j"$(nproc)" >/dev/null
    make -C "$UM_ROOT" install >/dev/null
}

# Starts a private cluster owned by the postgres user, on a private socket directory and a free port.
# Sets PGHOST, PGPORT, PGUSER and UM_CLUSTER_DIR; um_cluster_stop (run on exit) removes it all.
um_cluster_start() {
    UM_CLUSTER_DIR="$(mktemp -d /tmp/usage_meter_cluster.XXXXXX)"
    local port
    for port in $(seq 55432 55532); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
    export PGHOST="$UM_CLUSTER_DIR" PGPORT="$port" PGUSER=postgres
    um_log "starting a throwaway cluster in $UM_CLUSTER_DIR (port $PGPORT)"
    um_cluster_init "$UM_CLUSTER_DIR" "$PGPORT" || return 1
    trap um_cluster_stop EXIT
    runuser -u postgres -- "$UM_PG_BIN/pg_ctl" -D "$UM_CLUSTER_DIR/data" -l "$UM_CLUSTER_DIR/server.log" \
        -w -t 60 start >/dev/null
}

# um_cluster_init DIR PORT: initdb (as postgres) into DIR/data, for a private socket directory DIR and PORT.
um_cluster_init() {
    local dir=$1 port=$2
    chown postgres:postgres "$dir"
    chmod 700 "$dir"
    runuser -u postgres -- "$UM_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust \
        --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log"; return 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
max_connections = 120
shared_buffers = 256MB
fsync = on
log_min_messages = warning
CONF
}

# A second throwaway cluster beside the first (started by um_cluster_start), on the next port, so that a test can
# stop one database server while the other runs (tests/stages/47-scale-out.sh): um_side_cluster_start sets
# UM_SIDE_DIR (its socket directory) and UM_SIDE_PORT; um_side_cluster_ctl start|stop starts it again or stops it
# at once (-m immediate: as a crash would); um_side_cluster_remove (also run by um_cluster_stop) removes it.
um_side_cluster_start() {
    UM_SIDE_DIR="$(mktemp -d /tmp/usage_meter_side.XXXXXX)"
    UM_SIDE_PORT=$((PGPORT + 1))
    um_cluster_init "$UM_SIDE_DIR" "$UM_SIDE_PORT" && um_side_cluster_ctl start
}

um_side_cluster_ctl() {
    if [ "$1" = stop ]; then
        runuser -u postgres -- "$UM_PG_BIN/pg_ctl" -D "$UM_SIDE_DIR/data" -m immediate -w stop >/dev/null
    else
        runuser -u postgres -- "$UM_PG_BIN/pg_ctl" -D "$UM_SIDE_DIR/data" -l "$UM_SIDE_DIR/server.log" \
            -w -t 60 start >/dev/null
    fi
}

um_side_cluster_remove() {
    if [ -n "${UM_SIDE_DIR:-}" ] && [ -d "$UM_SIDE_DIR" ]; then
        runuser -u postgres -- "$UM_PG_BIN/pg_ctl" -D "$UM_SIDE_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$UM_SIDE_DIR"
    fi
    UM_SIDE_DIR=
}

um_cluster_stop() {
    um_side_cluster_remove
    if [ -n "${UM_CLUSTER_DIR:-}" ] && [ -d "$UM_CLUSTER_DIR" ]; then
        runuser -u postgres -- "$UM_PG_BIN/pg_ctl" -D "$UM_CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$UM_CLUSTER_DIR"
    fi
}

# um_reader_database DB ROLE: a fresh database DB of the running cluster with the extension, and a login role
# ROLE in usage_meter_reader (bind it to tenants in usage_meter.reader_tenants) for a client that only reads.
um_reader_database() {
    local q="psql -X -q -At -v ON_ERROR_STOP=1"
    $q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
        -c "CREATE DATABASE $1" &&
        $q -d "$1" -c "SET client_min_messages = warning" -c "CREATE EXTENSION usage_meter" \
            -c "DROP ROLE IF EXISTS $2" -c "CREATE ROLE $2 LOGIN IN ROLE usage_meter_reader"
}
