# shellcheck shell=bash disable=SC2016
# scripts/lib/pg.sh - local PostgreSQL 15 primary + streaming replica for
# development, tests and CI.  Sourced by scripts/stack (set -euo pipefail is
# in effect there); this file sets no shell options itself and every function
# checks its own errors, so it also works under `if pg_up; then`.
#
# Layout ($QUIRE_RUN_DIR/pg):
#   primary/  replica/     data directories
#   sockets/               unix socket directory (both servers)
#   primary.log replica.log  server logs (pg_ctl -l)
#   .primary-created .replica-created  markers: cluster fully set up
#
# Environment (defaults in brackets):
#   QUIRE_RUN_DIR [$PWD/build/run]   QUIRE_PG_PRIMARY_PORT [5000]
#   QUIRE_PG_REPLICA_PORT [5001]     QUIRE_PG_REPLICA_APPLY_DELAY [] (e.g. 2s)
#   QUIRE_PG_TIMEOUT [30]  seconds for every bounded wait
#   QUIRE_PG_BINDIR []     override the PostgreSQL bin directory
#
# Public functions:
#   pg_up                       create/start primary + replica, wait until streaming
#   pg_down                     stop replica, then primary
#   pg_start primary|replica    start one server (regenerates its quire.conf)
#   pg_stop primary|replica [fast|immediate|smart]
#   pg_promote                  promote the replica (pg_ctl promote -w)
#   pg_is_running primary|replica   exit status only
#   pg_pid primary|replica      print the postmaster PID
#   pg_url primary|replica [owner|app]  print the libpq URI as the owner
#                               role quire (default) or the app role quire_app
#   pg_psql primary|replica [psql args...]  psql as role quire, db quire
#   pg_psql_app primary|replica [psql args...]  the same as role quire_app
#   pg_reset                    stop both and delete $QUIRE_RUN_DIR/pg
#
# Database roles, as docs/deploy.md has them in production:
#   quire      owns database quire and its schema; runs `quirectl migrate`
#   quire_app  what the app logs in as: SELECT/INSERT/UPDATE/DELETE on the
#              tables, USAGE/SELECT on sequences, nothing else (no DDL, no
#              TRUNCATE, owns nothing), for every table a later migration
#              makes too (ALTER DEFAULT PRIVILEGES)
#
# Security note: this is a dev/test stack.  Authentication is `trust` for the
# unix socket and 127.0.0.1, so any local OS user can connect as any role.

# ---------------------------------------------------------------- internals

_pg_err() { printf 'pg: error: %s\n' "$*" >&2; return 1; }
_pg_msg() { printf 'pg: %s\n' "$*" >&2; }

# _pg_init: compute paths/settings from the environment (called by every
# public function, so environment changes between calls are honoured).
_pg_init() {
    local run_dir=${QUIRE_RUN_DIR:-$PWD/build/run}
    [[ $run_dir == /* ]] || run_dir=$PWD/$run_dir
    run_dir=$(realpath -m -- "$run_dir") || return 1
    _PG_RUN_DIR=$run_dir
    _PG_DIR=$run_dir/pg
    _PG_SOCK=$_PG_DIR/sockets
    _PG_PRIMARY_PORT=${QUIRE_PG_PRIMARY_PORT:-5000}
    _PG_REPLICA_PORT=${QUIRE_PG_REPLICA_PORT:-5001}
    _PG_TIMEOUT=${QUIRE_PG_TIMEOUT:-30}
    _PG_DELAY=${QUIRE_PG_REPLICA_APPLY_DELAY:-}

    local p
    for p in "$_PG_PRIMARY_PORT" "$_PG_REPLICA_PORT"; do
        [[ $p =~ ^[0-9]+$ ]] && ((p >= 1 && p <= 65535)) ||
            _pg_err "invalid port '$p' (QUIRE_PG_PRIMARY_PORT/QUIRE_PG_REPLICA_PORT)" || return 1
    done
    [[ $_PG_PRIMARY_PORT != "$_PG_REPLICA_PORT" ]] ||
        _pg_err "QUIRE_PG_PRIMARY_PORT and QUIRE_PG_REPLICA_PORT are both $_PG_PRIMARY_PORT" || return 1
    [[ $_PG_TIMEOUT =~ ^[1-9][0-9]*$ ]] ||
        _pg_err "invalid QUIRE_PG_TIMEOUT '$_PG_TIMEOUT' (whole seconds)" || return 1
    if [[ -n $_PG_DELAY ]] && ! [[ $_PG_DELAY =~ ^[0-9]+[[:space:]]*(us|ms|s|min|h|d)?$ ]]; then
        _pg_err "invalid QUIRE_PG_REPLICA_APPLY_DELAY '$_PG_DELAY' (expected e.g. 500ms, 2s, 1min)"
        return 1
    fi
    # sun_path is 108 bytes including the NUL terminator.
    local sockfile=$_PG_SOCK/.s.PGSQL.$_PG_PRIMARY_PORT
    ((${#sockfile} <= 107)) ||
        _pg_err "unix socket path too long (${#sockfile} > 107 bytes): $sockfile; use a shorter QUIRE_RUN_DIR" || return 1

    # Binaries.
    if [[ -z ${_PG_BIN:-} ]]; then
        local cand
        for cand in "${QUIRE_PG_BINDIR:-}" /usr/lib/postgresql/15/bin \
                    "$(pg_config --bindir 2>/dev/null || true)"; do
            if [[ -n $cand && -x $cand/initdb && -x $cand/pg_ctl ]]; then
                _PG_BIN=$cand
                break
            fi
        done
        [[ -n ${_PG_BIN:-} ]] ||
            _pg_err "PostgreSQL server binaries not found (looked in \$QUIRE_PG_BINDIR, /usr/lib/postgresql/15/bin, pg_config --bindir); install postgresql-15" ||
            return 1
    fi

    # OS user that runs the server: PostgreSQL refuses to run as root.
    if [[ -z ${_PG_USER:-} ]]; then
        if [[ $(id -u) == 0 ]]; then
            _PG_AS_ROOT=1
            if id -u postgres >/dev/null 2>&1; then
                _PG_USER=postgres
            else
                if ! id -u quire-pg >/dev/null 2>&1; then
                    _pg_msg "creating unprivileged system user quire-pg"
                    useradd --system --user-group --no-create-home \
                        --home-dir /nonexistent --shell /usr/sbin/nologin quire-pg ||
                        _pg_err "could not create system user quire-pg" || return 1
                fi
                _PG_USER=quire-pg
            fi
        else
            _PG_AS_ROOT=0
            _PG_USER=$(id -un)
        fi
    fi
}

# _pg_as CMD...: run CMD as the server OS user, with libpq PG* environment
# variables removed and a working directory that user can access.
_pg_as() {
    local -a scrub=()
    local v
    for v in ${!PG@}; do scrub+=(-u "$v"); done
    (
        # Close inherited descriptors above stderr (our lock, a caller's
        # pipes): a postmaster started from here must not keep them open.
        local fd
        for fd in "/proc/$BASHPID/fd/"*; do
            fd=${fd##*/}
            [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2 && fd < 255)) && eval "exec $fd>&-" 2>/dev/null
        done
        cd "$_PG_DIR" 2>/dev/null || cd /
        if [[ $_PG_AS_ROOT == 1 ]]; then
            if command -v runuser >/dev/null 2>&1; then
                exec runuser -u "$_PG_USER" -- env "${scrub[@]}" "$@"
            fi
            local home
            home=$(getent passwd "$_PG_USER" | cut -d: -f6)
            exec setpriv --reuid="$_PG_USER" --regid="$(id -g "$_PG_USER")" --init-groups \
                env "${scrub[@]}" HOME="${home:-/}" USER="$_PG_USER" LOGNAME="$_PG_USER" "$@"
        fi
        exec env "${scrub[@]}" "$@"
    )
}

_pg_role_ok() {
    case ${1:-} in
        primary | replica) return 0 ;;
        *) _pg_err "expected 'primary' or 'replica', got '${1:-}'" ;;
    esac
}
_pg_port() { if [[ $1 == primary ]]; then echo "$_PG_PRIMARY_PORT"; else echo "$_PG_REPLICA_PORT"; fi; }
_pg_data() { echo "$_PG_DIR/$1"; }
_pg_log() { echo "$_PG_DIR/$1.log"; }

_pg_log_tail() {
    local log
    log=$(_pg_log "$1")
    if [[ -s $log ]]; then
        printf 'pg: --- last lines of %s ---\n' "$log" >&2
        tail -n "${2:-25}" "$log" | sed 's/^/    /' >&2
        printf 'pg: ---\n' >&2
    fi
}

# Prepare $_PG_DIR: create it, make sure the server user owns it and can
# reach it through every parent directory.
_pg_prepare_dirs() {
    if [[ $_PG_AS_ROOT == 1 ]]; then
        # Check traversal of every existing ancestor first (before mkdir).
        local -a dirs=() d=$_PG_RUN_DIR
        while [[ $d != / && -n $d ]]; do
            [[ -d $d ]] && dirs=("$d" "${dirs[@]}")
            d=${d%/*}
        done
        local bad
        bad=$(_pg_as sh -c \
            'for d; do [ -x "$d" ] || { printf "%s\n" "$d"; exit 0; }; done' sh "${dirs[@]}" 2>&1) ||
            _pg_err "could not run a command as OS user '$_PG_USER': $bad" || return 1
        if [[ -n $bad ]]; then
            _pg_err "OS user '$_PG_USER' (which runs PostgreSQL, as it refuses to run as root) cannot traverse directory '$bad' on the way to QUIRE_RUN_DIR=$_PG_RUN_DIR. Fix its permissions (e.g. chmod o+x '$bad') or use a QUIRE_RUN_DIR outside it."
            return 1
        fi
    fi
    mkdir -p "$_PG_DIR" || _pg_err "cannot create $_PG_DIR" || return 1
    if [[ $_PG_AS_ROOT == 1 ]]; then
        chmod 0755 "$_PG_DIR" || return 1
        if [[ $(stat -c %U "$_PG_DIR") != "$_PG_USER" ]]; then
            _pg_msg "chown -R $_PG_USER $_PG_DIR"
            chown -R "$_PG_USER:" "$_PG_DIR" || _pg_err "cannot chown $_PG_DIR to $_PG_USER" || return 1
        fi
        # The ancestors created by mkdir -p above must be reachable too.
        local bad
        bad=$(_pg_as sh -c \
            '[ -w "$1" ] && [ -x "$1" ] || printf "%s\n" "$1"' sh "$_PG_DIR")
        [[ -z $bad ]] ||
            _pg_err "OS user '$_PG_USER' cannot access $_PG_DIR (check the permissions/umask of its parent directories)" ||
            return 1
    elif [[ ! -O $_PG_DIR ]]; then
        _pg_err "$_PG_DIR is owned by $(stat -c %U "$_PG_DIR"), not $(id -un); remove it (pg_reset as that user/root) or run as that user"
        return 1
    fi
    _pg_as mkdir -p "$_PG_SOCK" || return 1
    _pg_as chmod 0755 "$_PG_SOCK" || return 1
}

# _pg_write_file PATH: write stdin to PATH (as the server user) if the content
# differs; exit 0 = changed, 1 = unchanged, 2 = error.
_pg_write_file() {
    local path=$1 content
    content=$(cat; echo x)
    content=${content%x}
    if [[ -f $path ]] && [[ "$(cat "$path"; echo x)" == "${content}x" ]]; then
        return 1
    fi
    printf '%s' "$content" | _pg_as sh -c 'umask 077; cat >"$1.tmp" && mv -f "$1.tmp" "$1"' sh "$path" ||
        { _pg_err "cannot write $path"; return 2; }
    return 0
}

_pg_sq() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }   # SQL/conf single-quoting

# _pg_conf_text ROLE: content of ROLE's quire.conf.
_pg_conf_text() {
    local role=$1
    cat <<EOF
# Generated by scripts/lib/pg.sh on every pg_start/pg_up; do not edit.
# (ALTER SYSTEM / postgresql.auto.conf still overrides these.)
cluster_name = 'quire-$role'
port = $(_pg_port "$role")
listen_addresses = '127.0.0.1'
unix_socket_directories = $(_pg_sq "$_PG_SOCK")
max_connections = 200
shared_buffers = 128MB
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 256MB
hot_standby = on
hot_standby_feedback = on
logging_collector = off
log_min_messages = warning
# small footprint: 2-core box shared with the web server and the app
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 0
max_parallel_maintenance_workers = 1
autovacuum_max_workers = 2
jit = off
huge_pages = off
work_mem = 4MB
maintenance_work_mem = 64MB
max_wal_size = 512MB
EOF
    if [[ $role == replica ]]; then
        cat <<EOF
# standby settings (ignored once promoted)
primary_conninfo = $(_pg_sq "host=127.0.0.1 port=$_PG_PRIMARY_PORT user=postgres application_name=quire_replica")
recovery_min_apply_delay = $(_pg_sq "${_PG_DELAY:-0}")
wal_retrieve_retry_interval = 1s
EOF
    fi
}

_pg_hba_text() {
    cat <<'EOF'
# Generated by scripts/lib/pg.sh: development stack, trust auth, local only.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
host    all          all   127.0.0.1/32   trust
local   replication  all                  trust
host    replication  all   127.0.0.1/32   trust
EOF
}

# _pg_write_conf ROLE: (re)generate quire.conf; exit 0 = changed, 1 = same, 2 = error.
_pg_write_conf() {
    local role=$1 data
    data=$(_pg_data "$role")
    if ! grep -qx "include_if_exists = 'quire.conf'" "$data/postgresql.conf"; then
        _pg_as sh -c 'printf "\n# quire dev stack settings (scripts/lib/pg.sh)\ninclude_if_exists = '"'quire.conf'"'\n" >>"$1"' \
            sh "$data/postgresql.conf" || { _pg_err "cannot update $data/postgresql.conf"; return 2; }
    fi
    _pg_conf_text "$role" | _pg_write_file "$data/quire.conf"
}

# _pg_pidfile_pid ROLE: print the PID recorded in postmaster.pid (if any).
_pg_pidfile_pid() {
    local f pid
    f=$(_pg_data "$1")/postmaster.pid
    [[ -f $f ]] || return 1
    read -r pid <"$f" 2>/dev/null || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    echo "$pid"
}

_pg_running() {   # after _pg_init
    local role=$1 pid data cwd
    pid=$(_pg_pidfile_pid "$role") || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    data=$(_pg_data "$role")
    # A stale pid file may name a reused PID: the postmaster always has its
    # data directory as working directory.
    if cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null); then
        [[ $cwd == "$(realpath -m -- "$data")" ]]
    else
        [[ $(cat "/proc/$pid/comm" 2>/dev/null || echo postgres) == postgres ]]
    fi
}

_pg_created() { [[ -f $_PG_DIR/.$1-created && -f $(_pg_data "$1")/PG_VERSION ]]; }

# _pg_admin ROLE psql-args...: psql as superuser postgres on db postgres.
_pg_admin() {
    local role=$1
    shift
    _pg_as "$_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$_PG_SOCK" -p "$(_pg_port "$role")" \
        -U postgres -d postgres "$@"
}

# _pg_port_busy PORT: true if something else listens on PORT.
_pg_port_busy() {
    command -v ss >/dev/null 2>&1 || return 1
    local out
    out=$(ss -Hltn "sport = :$1" 2>/dev/null) || return 1
    [[ -n $out ]]
}

_pg_start() {   # after _pg_init/_pg_prepare_dirs
    local role=$1 data log port rc attempt out
    data=$(_pg_data "$role")
    log=$(_pg_log "$role")
    port=$(_pg_port "$role")
    _pg_created "$role" ||
        _pg_err "$role cluster does not exist in $data; run pg_up" || return 1

    rc=0
    _pg_write_conf "$role" || rc=$?
    ((rc != 2)) || return 1

    if _pg_running "$role"; then
        # Already up: apply conf changes. Port/socket changes need a restart,
        # everything else we write is reloadable.
        if ((rc == 0)); then
            local -a pf=()
            mapfile -t pf <"$data/postmaster.pid" || true
            if [[ ${pf[3]:-} != "$port" || ${pf[4]:-} != "$_PG_SOCK" ]]; then
                _pg_msg "$role: port/socket changed, restarting"
                _pg_stop "$role" fast && _pg_start "$role"
                return
            fi
            _pg_as "$_PG_BIN/pg_ctl" -D "$data" -s reload ||
                _pg_err "$role: pg_ctl reload failed" || return 1
            sleep 0.3
            out=$(_pg_admin "$role" -Atc "select count(*) from pg_settings where pending_restart") || out=0
            if [[ $out != 0 ]]; then
                _pg_msg "$role: settings need a restart, restarting"
                _pg_stop "$role" fast && _pg_start "$role"
                return
            fi
            _pg_msg "$role: configuration reloaded"
        fi
        return 0
    fi

    # Not running: a postmaster.pid left by a crash whose PID now belongs to
    # another process would make the postmaster refuse to start.
    local stale
    if stale=$(_pg_pidfile_pid "$role") && kill -0 "$stale" 2>/dev/null &&
        readlink "/proc/$stale/cwd" >/dev/null 2>&1; then
        _pg_msg "$role: removing stale postmaster.pid (PID $stale is not this server)"
        _pg_as rm -f "$data/postmaster.pid" || return 1
    fi
    if _pg_port_busy "$port"; then
        _pg_err "$role: TCP port $port is already in use by another process (set QUIRE_PG_${role^^}_PORT):"
        ss -Hltnp "sport = :$port" >&2 2>/dev/null || true
        return 1
    fi

    for attempt in 1 2 3 4 5; do
        if _pg_as "$_PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t "$_PG_TIMEOUT" -s start; then
            return 0
        fi
        if _pg_running "$role"; then
            _pg_err "$role did not become ready within ${_PG_TIMEOUT}s (still starting, left running; see $log)"
            _pg_log_tail "$role"
            return 1
        fi
        # Transient failures worth a retry: after a kill -9 of the postmaster
        # orphaned backends may hold the old shared memory for a moment; a
        # port inside the ephemeral range (ip_local_port_range, usually
        # 32768-60999) can be taken for a moment by an outgoing connection.
        local tailtxt
        tailtxt=$(tail -n 8 "$log" 2>/dev/null || true)
        if ((attempt < 5)); then
            if [[ $tailtxt == *'pre-existing shared memory block'* ]]; then
                _pg_msg "$role: old shared memory still in use, retrying in 2s"
                sleep 2
                continue
            fi
            if [[ $tailtxt == *'could not create any TCP/IP sockets'* ]] && ! _pg_port_busy "$port"; then
                _pg_msg "$role: port $port briefly in use (outgoing connection?), retrying in 1s"
                sleep 1
                continue
            fi
        fi
        break
    done
    _pg_err "$role failed to start (port $port, data $data)"
    _pg_log_tail "$role"
    return 1
}

_pg_stop() {   # after _pg_init
    local role=$1 mode=${2:-fast} data
    data=$(_pg_data "$role")
    case $mode in
        fast | immediate | smart) ;;
        *) _pg_err "pg_stop: mode must be fast, immediate or smart, got '$mode'" || return 1 ;;
    esac
    _pg_running "$role" || return 0
    if _pg_as "$_PG_BIN/pg_ctl" -D "$data" -m "$mode" -w -t "$_PG_TIMEOUT" -s stop; then
        return 0
    fi
    if ! _pg_running "$role"; then return 0; fi
    _pg_log_tail "$role"
    if [[ $mode != immediate ]]; then
        _pg_msg "$role did not stop within ${_PG_TIMEOUT}s in $mode mode; trying immediate"
        if _pg_as "$_PG_BIN/pg_ctl" -D "$data" -m immediate -w -t "$_PG_TIMEOUT" -s stop ||
            ! _pg_running "$role"; then
            return 0
        fi
    fi
    _pg_err "$role (PID $(_pg_pidfile_pid "$role" || echo '?')) did not stop within ${_PG_TIMEOUT}s"
}

_pg_init_primary() {
    local data out
    data=$(_pg_data primary)
    _pg_msg "creating primary cluster in $data"
    _pg_as rm -rf "$data" "$_PG_DIR/.replica-created" "$(_pg_data replica)" || return 1
    rm -f "$_PG_DIR/.primary-created"
    out=$(_pg_as "$_PG_BIN/initdb" -D "$data" -U postgres --encoding=UTF8 --locale=C \
        --auth=trust --no-instructions 2>&1) ||
        { _pg_err "initdb failed:"; printf '%s\n' "$out" | tail -n 25 | sed 's/^/    /' >&2; return 1; }
    local rc=0
    _pg_hba_text | _pg_write_file "$data/pg_hba.conf" || rc=$?
    ((rc != 2)) || return 1
    rc=0
    _pg_write_conf primary || rc=$?
    ((rc != 2)) || return 1
    touch "$_PG_DIR/.primary-created"
}

_pg_init_replica() {
    local data out
    data=$(_pg_data replica)
    _pg_msg "creating replica in $data (pg_basebackup)"
    rm -f "$_PG_DIR/.replica-created"
    _pg_as rm -rf "$data" || return 1
    out=$(_pg_as "$_PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$_PG_PRIMARY_PORT" -U postgres \
        -D "$data" -R -X stream --checkpoint=fast 2>&1) ||
        { _pg_err "pg_basebackup from primary (port $_PG_PRIMARY_PORT) failed:"
          printf '%s\n' "$out" | tail -n 25 | sed 's/^/    /' >&2; return 1; }
    # primary_conninfo lives in quire.conf (regenerated on start, so a changed
    # primary port is picked up); drop the copy -R wrote to postgresql.auto.conf.
    _pg_as sed -i '/^primary_conninfo[[:space:]]*=/d' "$data/postgresql.auto.conf" || return 1
    [[ -f $data/standby.signal ]] || _pg_err "pg_basebackup -R did not create standby.signal" || return 1
    local rc=0
    _pg_write_conf replica || rc=$?
    ((rc != 2)) || return 1
    touch "$_PG_DIR/.replica-created"
}

_pg_bootstrap_db() {
    _pg_admin primary <<'SQL' || { _pg_err "could not create role/database quire"; _pg_log_tail primary; return 1; }
SELECT 'CREATE ROLE quire LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quire') \gexec
SELECT 'ALTER ROLE quire LOGIN'
 WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quire' AND NOT rolcanlogin) \gexec
SELECT 'CREATE DATABASE quire OWNER quire'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'quire') \gexec
SELECT 'ALTER DATABASE quire OWNER TO quire'
 WHERE EXISTS (SELECT 1 FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
                WHERE d.datname = 'quire' AND r.rolname <> 'quire') \gexec
SELECT 'CREATE ROLE quire_app LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quire_app') \gexec
SQL
    _pg_app_grants_sql | _pg_admin primary -d quire ||
        { _pg_err "could not grant quire_app its privileges"; _pg_log_tail primary; return 1; }
}

# The app role's privileges (docs/deploy.md, "Database roles"), as SQL for
# psql on the database quire; ha.sh gives the formation's primary the same.
# Default privileges cover the tables later migrations make as quire; the
# GRANTs ON ALL cover a database migrated before quire_app existed. Every
# statement is idempotent: this runs on every pg_up.
_pg_app_grants_sql() {
    cat <<'SQL'
REVOKE ALL ON DATABASE quire FROM PUBLIC;
GRANT CONNECT ON DATABASE quire TO quire_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO quire_app;
ALTER DEFAULT PRIVILEGES FOR ROLE quire IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO quire_app;
ALTER DEFAULT PRIVILEGES FOR ROLE quire IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO quire_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO quire_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO quire_app;
SQL
}

# Wait until the primary accepts connections, the replica streams from it
# and accepts read-only connections as quire@quire.
_pg_wait_streaming() {
    local deadline=$((SECONDS + _PG_TIMEOUT)) p_ok='' s_ok='' r_ok='' out
    while :; do
        p_ok='' s_ok='' r_ok=''
        if out=$(_pg_admin primary -Atc \
            "select count(*) from pg_stat_replication where application_name = 'quire_replica' and state = 'streaming'" 2>/dev/null); then
            p_ok=1
            [[ $out != 0 ]] && s_ok=1
        fi
        if out=$(_pg_as "$_PG_BIN/psql" -X -q -h "$_PG_SOCK" -p "$_PG_REPLICA_PORT" -U quire -d quire \
            -Atc 'select pg_is_in_recovery()' 2>/dev/null); then
            if [[ $out == t ]]; then
                r_ok=1
            else
                _pg_err "replica (port $_PG_REPLICA_PORT) is not in recovery: it was promoted. Run pg_reset (or delete $(_pg_data replica)) to recreate it."
                return 1
            fi
        fi
        [[ -n $p_ok && -n $s_ok && -n $r_ok ]] && return 0
        if ((SECONDS >= deadline)); then
            if [[ -z $p_ok ]]; then
                _pg_err "primary (port $_PG_PRIMARY_PORT) not accepting connections after ${_PG_TIMEOUT}s"
                _pg_log_tail primary
            elif [[ -z $s_ok ]]; then
                _pg_err "replica not streaming from primary after ${_PG_TIMEOUT}s (no 'streaming' row in pg_stat_replication)"
                _pg_log_tail replica
                _pg_log_tail primary 10
            else
                _pg_err "replica (port $_PG_REPLICA_PORT) not accepting read-only connections to db quire after ${_PG_TIMEOUT}s"
                _pg_log_tail replica
            fi
            return 1
        fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------- public API

# pg_up: idempotent; creates/starts primary and replica and waits until the
# replica is streaming.  Runs in a subshell holding a lock on $QUIRE_RUN_DIR/pg.
pg_up() (
    _pg_init || exit 1
    _pg_prepare_dirs || exit 1
    exec 9>"$_PG_DIR/.lock" || exit 1
    flock -w $((_PG_TIMEOUT * 4)) 9 ||
        _pg_err "another pg_up holds $_PG_DIR/.lock" || exit 1

    if ! _pg_created primary; then
        local lo hi p
        if read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null; then
            for p in "$_PG_PRIMARY_PORT" "$_PG_REPLICA_PORT"; do
                ((p < lo || p > hi)) ||
                    _pg_msg "note: port $p is inside the ephemeral port range $lo-$hi; busy client traffic can make it briefly unavailable"
            done
        fi
        _pg_running primary && { _pg_err "a half-created primary is running in $(_pg_data primary); run pg_reset"; exit 1; }
        _pg_stop replica immediate || exit 1
        _pg_init_primary || exit 1
    fi
    _pg_start primary || exit 1
    _pg_bootstrap_db || exit 1

    if ! _pg_created replica; then
        _pg_stop replica immediate || exit 1
        _pg_init_replica || exit 1
    elif [[ ! -f $(_pg_data replica)/standby.signal ]]; then
        _pg_err "replica in $(_pg_data replica) has been promoted (no standby.signal); run pg_reset to start from scratch"
        exit 1
    fi
    _pg_start replica || exit 1
    _pg_wait_streaming || exit 1
    _pg_msg "up: primary $(pg_url primary), replica $(pg_url replica) (streaming)"
)

pg_start() {
    _pg_role_ok "${1:-}" || return 1
    _pg_init || return 1
    _pg_prepare_dirs || return 1
    _pg_start "$1"
}

pg_stop() {
    _pg_role_ok "${1:-}" || return 1
    _pg_init || return 1
    _pg_stop "$1" "${2:-fast}"
}

pg_down() {
    _pg_init || return 1
    local rc=0
    _pg_stop replica fast || rc=1
    _pg_stop primary fast || rc=1
    return $rc
}

pg_promote() {
    _pg_init || return 1
    local data
    data=$(_pg_data replica)
    _pg_running replica || _pg_err "pg_promote: replica is not running" || return 1
    if [[ ! -f $data/standby.signal ]]; then
        _pg_msg "replica is already promoted"
        return 0
    fi
    _pg_as "$_PG_BIN/pg_ctl" -D "$data" -w -t "$_PG_TIMEOUT" -s promote ||
        { _pg_err "promoting the replica failed"; _pg_log_tail replica; return 1; }
}

pg_is_running() {
    _pg_role_ok "${1:-}" || return 2
    _pg_init || return 2
    _pg_running "$1"
}

pg_pid() {
    _pg_role_ok "${1:-}" || return 1
    _pg_init || return 1
    _pg_running "$1" || _pg_err "$1 is not running" || return 1
    _pg_pidfile_pid "$1"
}

pg_url() {
    _pg_role_ok "${1:-}" || return 1
    _pg_init || return 1
    local user
    case ${2:-owner} in
        owner) user=quire ;;
        app) user=quire_app ;;
        *) _pg_err "pg_url: expected 'owner' or 'app', got '$2'"; return 1 ;;
    esac
    printf 'postgresql://%s@127.0.0.1:%s/quire\n' "$user" "$(_pg_port "$1")"
}

# pg_psql ROLE [args]: psql is only a client, so it runs as the calling OS
# user (relative -f paths, stdin and cwd work as expected); it connects
# through the unix socket as database role quire to database quire.
pg_psql() {
    _pg_role_ok "${1:-}" || return 1
    _pg_init || return 1
    local role=$1
    shift
    "$_PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$_PG_SOCK" -p "$(_pg_port "$role")" \
        -U quire -d quire "$@"
}

# pg_psql_app ROLE [args]: as pg_psql, as the app's role quire_app.
pg_psql_app() {
    _pg_role_ok "${1:-}" || return 1
    _pg_init || return 1
    local role=$1
    shift
    "$_PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$_PG_SOCK" -p "$(_pg_port "$role")" \
        -U quire_app -d quire "$@"
}

# pg_psql_admin ROLE [args]: psql as the superuser postgres on db postgres
# (tests that pause replay or force a checkpoint).
pg_psql_admin() {
    _pg_role_ok "${1:-}" || return 1
    _pg_init || return 1
    _pg_admin "$@"
}

pg_reset() {
    _pg_init || return 1
    [[ -d $_PG_DIR ]] || return 0
    pg_down || _pg_err "pg_reset: could not stop the servers; not deleting $_PG_DIR" || return 1
    [[ $_PG_DIR == /?*/pg ]] || _pg_err "refusing to delete suspicious path '$_PG_DIR'" || return 1
    rm -rf -- "$_PG_DIR" || _pg_err "could not delete $_PG_DIR" || return 1
    _pg_msg "deleted $_PG_DIR"
}
