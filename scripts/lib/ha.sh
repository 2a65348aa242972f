# shellcheck shell=bash
# scripts/lib/ha.sh - the high-availability test stack: a pg_auto_failover
# formation (a monitor, a primary and a secondary, Debian's
# postgresql-15-auto-failover) and two quire app hosts, each its own
# supervisor and shared segment, speaking FastCGI over TCP, behind one
# nginx upstream with round robin (no sticky balancing). Sourced by
# scripts/stack after pg.sh, web.sh and app.sh; `scripts/stack up --ha`.
#
# Layout ($QUIRE_RUN_DIR/ha):
#   monitor/ node1/ node2/   data directories (pg_autoctl create ...)
#   xdg/                     pg_autoctl's configuration, state and PID files
#   monitor.log node1.log node2.log   `pg_autoctl run` output
#   *.run.pid                the PIDs of the `pg_autoctl run` services
# $QUIRE_RUN_DIR/host-a, host-b: each app host's app.env, app.pid, app.log.
#
# Ports: QUIRE_HA_PORT (5600) the monitor, +1 node1, +2 node2; the app
# hosts listen on QUIRE_HTTP_PORT+1 and +2 (127.0.0.1), nginx on
# QUIRE_HTTP_PORT. Everything runs as the OS user pg.sh runs PostgreSQL
# as (postgres when started as root): pg_autoctl refuses root too.
#
# Public functions:
#   ha_up                 create what is missing, start everything, wait
#                         until node2 is a streaming secondary
#   ha_down               stop the hosts, then the nodes, then the monitor
#   ha_node_stop NODE [immediate]   `pg_autoctl stop` of node1|node2 (the
#                         node's keeper and its PostgreSQL)
#   ha_node_start NODE    start its `pg_autoctl run` again (it rejoins)
#   ha_node_pid NODE      its postmaster's PID
#   ha_state              "node1:<reported>/<goal> node2:..." from the monitor
#   ha_primary            the node that is primary now (node1|node2), or nothing
#   ha_url owner|app      the multi-host primary URI (pg_autoctl show uri)
#   ha_replica_url        both nodes, target_session_attrs=standby
#   ha_hosts_up / ha_hosts_down / ha_host_restart a|b
#   ha_psql NODE|monitor [psql args]   psql as the superuser over TCP

_ha_init() {
    _pg_init || return 1
    _HA_DIR=$_PG_RUN_DIR/ha
    _HA_MON_PORT=${QUIRE_HA_PORT:-5600}
    [[ $_HA_MON_PORT =~ ^[0-9]+$ ]] || { _pg_err "QUIRE_HA_PORT must be a port"; return 1; }
    _HA_TIMEOUT=${QUIRE_HA_TIMEOUT:-60}
    _HA_MONITOR_URL="postgres://autoctl_node@127.0.0.1:$_HA_MON_PORT/pg_auto_failover?sslmode=disable"
    _HA_HOST_BASE=${QUIRE_HTTP_PORT:-8080}
}

_ha_port() {
    case $1 in
        monitor) echo "$_HA_MON_PORT" ;;
        node1) echo $((_HA_MON_PORT + 1)) ;;
        node2) echo $((_HA_MON_PORT + 2)) ;;
        *) _pg_err "expected monitor, node1 or node2, got '$1'"; return 1 ;;
    esac
}

# _ha_as CMD...: as the PostgreSQL OS user, with pg_autoctl's files kept
# under the run directory (never in that user's home or /tmp).
_ha_as() {
    _pg_as env XDG_CONFIG_HOME="$_HA_DIR/xdg/config" XDG_DATA_HOME="$_HA_DIR/xdg/data" \
        XDG_RUNTIME_DIR="$_HA_DIR/xdg/run" PATH="$_PG_BIN:/usr/bin:/bin" "$@"
}

ha_psql() {
    _ha_init || return 1
    local who=$1 db=quire port
    shift
    port=$(_ha_port "$who") || return 1
    [[ $who == monitor ]] && db=pg_auto_failover
    "$_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

ha_state() {
    _ha_init || return 1
    ha_psql monitor -Atc "SELECT string_agg(nodename || ':' || reportedstate || '/' || goalstate, ' ' ORDER BY nodeid) FROM pgautofailover.node" 2>/dev/null
}

ha_primary() {
    _ha_init || return 1
    local n
    for n in node1 node2; do
        [[ $(ha_psql "$n" -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null) == f ]] && { echo "$n"; return 0; }
    done
    return 1
}

_ha_run_pid() {
    local f=$_HA_DIR/$1.run.pid pid
    [[ -f $f ]] || return 1
    pid=$(cat "$f")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

# _ha_run NAME: starts `pg_autoctl run` for NAME in the background.
_ha_run() {
    local name=$1
    _ha_run_pid "$name" >/dev/null && return 0
    _ha_as pg_autoctl run --pgdata "$_HA_DIR/$name" >>"$_HA_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$_HA_DIR/$name.run.pid"
}

# _ha_wait WHAT CMD...: until CMD succeeds, within the timeout.
_ha_wait() {
    local what=$1 deadline=$((SECONDS + _HA_TIMEOUT))
    shift
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            _pg_err "ha: $what not reached within ${_HA_TIMEOUT}s (state: $(ha_state))"
            return 1
        fi
        sleep 0.3
    done
}

_ha_state_is() { [[ " $(ha_state) " == *" $1 "* ]]; }

_ha_create_node() {
    local name=$1
    [[ -f $_HA_DIR/$name/PG_VERSION ]] && return 0
    _pg_msg "ha: creating $name (pg_autoctl create postgres, port $(_ha_port "$name"))"
    _ha_as pg_autoctl create postgres --pgdata "$_HA_DIR/$name" --pgport "$(_ha_port "$name")" \
        --hostname 127.0.0.1 --auth trust --no-ssl --monitor "$_HA_MONITOR_URL" \
        --dbname quire --name "$name" --pgctl "$_PG_BIN/pg_ctl" >>"$_HA_DIR/$name.log" 2>&1 ||
        { _pg_err "ha: pg_autoctl create postgres $name failed:"; tail -n 20 "$_HA_DIR/$name.log" >&2; return 1; }
}

ha_up() {
    _ha_init || return 1
    _pg_prepare_dirs || return 1
    mkdir -p "$_HA_DIR" || return 1
    if [[ $_PG_AS_ROOT == 1 ]]; then chown "$_PG_USER:" "$_HA_DIR" || return 1; fi
    _pg_as mkdir -p "$_HA_DIR/xdg/config" "$_HA_DIR/xdg/data" "$_HA_DIR/xdg/run" || return 1
    _pg_as chmod 0700 "$_HA_DIR/xdg/run" || return 1
    if [[ ! -f $_HA_DIR/monitor/PG_VERSION ]]; then
        _pg_msg "ha: creating the monitor (port $_HA_MON_PORT)"
        _ha_as pg_autoctl create monitor --pgdata "$_HA_DIR/monitor" --pgport "$_HA_MON_PORT" \
            --hostname 127.0.0.1 --auth trust --no-ssl --pgctl "$_PG_BIN/pg_ctl" \
            >>"$_HA_DIR/monitor.log" 2>&1 ||
            { _pg_err "ha: pg_autoctl create monitor failed:"; tail -n 20 "$_HA_DIR/monitor.log" >&2; return 1; }
    fi
    _ha_run monitor
    _ha_wait "the monitor" ha_psql monitor -Atc 'SELECT 1' || return 1
    # Failover in seconds, not the defaults' half minute (docs/deploy.md):
    # a node silent for 3 s is unhealthy, and a primary that cannot be
    # told to demote itself is taken as gone after 3 s (its keeper, cut
    # off from the monitor, demotes it on its own; and with synchronous
    # replication it could not commit alone anyway).
    ha_psql monitor -c "ALTER SYSTEM SET pgautofailover.health_check_period = 1000" \
        -c "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000" \
        -c "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1" \
        -c "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500" \
        -c "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000" \
        -c "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 3000" \
        -c "SELECT pg_reload_conf()" >/dev/null || return 1
    _ha_create_node node1 || return 1
    _ha_run node1
    _ha_wait "node1 primary" ha_primary || return 1
    _ha_create_node node2 || return 1
    _ha_run node2
    _ha_wait "a primary and a secondary" _ha_two_up || return 1
    _ha_bootstrap || return 1
}

# Both nodes at their goal, one primary and one secondary.
_ha_two_up() {
    local s
    s=" $(ha_state) "
    [[ $s == *":primary/primary "* && $s == *":secondary/secondary "* ]]
}

# The roles and privileges pg.sh gives its primary, on the formation's.
_ha_bootstrap() {
    local p
    p=$(ha_primary) || { _pg_err "ha: no primary"; return 1; }
    ha_psql "$p" -d postgres <<'SQL' || return 1
SELECT 'CREATE ROLE quire LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quire') \gexec
SELECT 'CREATE ROLE quire_app LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quire_app') \gexec
ALTER DATABASE quire OWNER TO quire;
SQL
    ha_psql "$p" -c 'ALTER SCHEMA public OWNER TO quire' >/dev/null || return 1
    _pg_app_grants_sql | ha_psql "$p" || return 1
}

# ha_url owner|app: what `pg_autoctl show uri --formation default` prints,
# with the role added (the formation's URI names no user).
ha_url() {
    _ha_init || return 1
    local uri user=quire
    [[ ${1:-owner} == app ]] && user=quire_app
    uri=$(_ha_as pg_autoctl show uri --pgdata "$_HA_DIR/monitor" --formation default) || return 1
    # No TLS on loopback; and a URI with one parameter needs no quoting
    # in the env files (a "&" would end a shell line that sources one).
    uri=${uri//&sslmode=prefer/}
    printf '%s\n' "${uri/postgres:\/\//postgres://$user@}"
}

ha_replica_url() {
    _ha_init || return 1
    printf 'postgres://quire_app@127.0.0.1:%s,127.0.0.1:%s/quire?target_session_attrs=standby\n' \
        "$(_ha_port node1)" "$(_ha_port node2)"
}

ha_node_pid() {
    _ha_init || return 1
    local f=$_HA_DIR/$1/postmaster.pid pid
    [[ -f $f ]] || return 1
    read -r pid <"$f" || return 1
    kill -0 "$pid" 2>/dev/null && echo "$pid"
}

ha_node_stop() {
    _ha_init || return 1
    local name=$1 mode=${2:-fast} pid
    _ha_as pg_autoctl stop --pgdata "$_HA_DIR/$name" ${mode:+--$mode} >>"$_HA_DIR/$name.log" 2>&1 || true
    if pid=$(_ha_run_pid "$name"); then
        local i
        for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$_HA_DIR/$name.run.pid"
}

ha_node_start() {
    _ha_init || return 1
    _ha_run "$1"
}

# The app hosts: each its own run directory, supervisor and segment.
_ha_host() {   # _ha_host a|b CMD: runs app.sh's CMD for that host
    local h=$1 port
    shift
    case $h in a) port=$((_HA_HOST_BASE + 1)) ;; b) port=$((_HA_HOST_BASE + 2)) ;;
        *) _pg_err "host must be a or b"; return 1 ;; esac
    (
        QUIRE_PRIMARY_URL_OVERRIDE=$(ha_url app) || exit 1
        QUIRE_REPLICA_URL_OVERRIDE=$(ha_replica_url)
        QUIRE_POSITION_KEY=$(cat "$_HA_DIR/position.key")
        # One QUIRE_SECRET_KEY for both hosts: a TOTP secret sealed
        # through one must open through the other. Set empty: none.
        if [ -z "${QUIRE_SECRET_KEY+set}" ]; then
            QUIRE_SECRET_KEY=$(cat "$_HA_DIR/secret.key")
        fi
        QUIRE_RUN_DIR=$_PG_RUN_DIR/host-$h
        QUIRE_FCGI_PORT=$port
        QUIRE_SOCKET=$QUIRE_RUN_DIR/unused.sock
        export QUIRE_RUN_DIR QUIRE_FCGI_PORT QUIRE_SOCKET QUIRE_PRIMARY_URL_OVERRIDE \
            QUIRE_REPLICA_URL_OVERRIDE QUIRE_POSITION_KEY QUIRE_SECRET_KEY
        mkdir -p "$QUIRE_RUN_DIR"
        "$@"
    )
}

ha_hosts_up() {
    _ha_init || return 1
    # The key every host shares (QUIRE_POSITION_KEY, docs/deploy.md).
    [[ -s $_HA_DIR/position.key ]] ||
        (umask 077; head -c 32 /dev/urandom | base64 >"$_HA_DIR/position.key") || return 1
    [[ -s $_HA_DIR/secret.key ]] ||
        (umask 077; head -c 32 /dev/urandom | base64 >"$_HA_DIR/secret.key") || return 1
    _ha_host a app_up "$QUIRE_BIN" && _ha_host b app_up "$QUIRE_BIN"
}

ha_hosts_down() {
    _ha_init || return 1
    _ha_host a app_down || true
    _ha_host b app_down || true
}

ha_host_restart() {
    _ha_init || return 1
    _ha_host "$1" app_down
    _ha_host "$1" app_up "$QUIRE_BIN"
}

ha_host_pid() {
    _ha_init || return 1
    _ha_host "$1" app_pid
}

ha_down() {
    _ha_init || return 1
    [[ -d $_HA_DIR ]] || return 0
    ha_hosts_down
    local n
    for n in node2 node1 monitor; do
        [[ -d $_HA_DIR/$n ]] && ha_node_stop "$n" fast
    done
    return 0
}

ha_reset() {
    _ha_init || return 1
    ha_down
    [[ $_HA_DIR == /?*/ha ]] || { _pg_err "refusing to delete '$_HA_DIR'"; return 1; }
    rm -rf -- "$_HA_DIR" "$_PG_RUN_DIR/host-a" "$_PG_RUN_DIR/host-b"
}
