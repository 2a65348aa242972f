# shellcheck shell=bash
# scripts/lib/web.sh — run lighttpd or nginx in front of the quire FastCGI app,
# using the shipped conf/lighttpd.conf and conf/nginx.conf.
#
# Source it (works under `set -euo pipefail`), then:
#   web_up lighttpd|nginx   check the config, start the server in the
#                           background, wait until the port accepts
#                           connections. If a server (either kind) started by
#                           us is already running it is stopped first, so a
#                           second web_up is a restart with the current
#                           settings.
#   web_down                stop the running server by PID (TERM, bounded
#                           wait, then KILL); no-op if none is running.
#   web_pid [SERVER]        print the PID of the running server; status 1 if
#                           none.
#   web_is_running [SERVER] status 0 if a server (of that kind) is running.
#   web_server              print which server is running (lighttpd|nginx).
#
# Inputs (environment):
#   QUIRE_RUN_DIR          run dir                 ($PWD/build/run)
#   QUIRE_HTTP_PORT        port                    (8080)
#   QUIRE_HTTP_ADDR        listen address          (127.0.0.1)
#   QUIRE_SOCKET           app FastCGI socket      ($QUIRE_RUN_DIR/quire.sock)
#   QUIRE_ALLOWED_ORIGINS  comma-separated origins, e.g.
#                          "http://127.0.0.1:3000,https://app.example.com"
#   QUIRE_MAX_BODY         app body limit in bytes (1048576); the web server
#                          accepts QUIRE_MAX_BODY + 64 KiB
#   QUIRE_WEB_USER         user the server's workers run as when started as
#                          root ("" = stay root, so a root-owned app socket is
#                          reachable; default "")
#   QUIRE_WEB_START_TIMEOUT  seconds to wait for the port (10)
#
# Files: $QUIRE_RUN_DIR/<server>/{<server>.pid,error.log,start.log,tmp/};
# nginx's rendered config is $QUIRE_RUN_DIR/nginx/nginx.conf.
# lighttpd reads the settings from its environment (see the top of
# conf/lighttpd.conf); nginx gets a rendered copy of conf/nginx.conf in which
# only the lines marked "@quire:<name>" are replaced.

_WEB_CONF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../conf" && pwd)

_web_err() { printf 'web: %s\n' "$*" >&2; }

# Resolve the inputs into _web_* globals.
_web_init() {
    _web_run_dir=${QUIRE_RUN_DIR:-$PWD/build/run}
    case $_web_run_dir in /*) ;; *) _web_run_dir=$PWD/$_web_run_dir ;; esac
    _web_port=${QUIRE_HTTP_PORT:-8080}
    _web_addr=${QUIRE_HTTP_ADDR:-127.0.0.1}
    _web_socket=${QUIRE_SOCKET:-$_web_run_dir/quire.sock}
    case $_web_socket in /*) ;; *) _web_socket=$PWD/$_web_socket ;; esac
    _web_origins=${QUIRE_ALLOWED_ORIGINS:-}
    _web_app_max_body=${QUIRE_MAX_BODY:-1048576}
    _web_user=${QUIRE_WEB_USER:-}
    _web_timeout=${QUIRE_WEB_START_TIMEOUT:-10}

    case $_web_port in '' | *[!0-9]*)
        _web_err "QUIRE_HTTP_PORT must be a number, got '$_web_port'"; return 1 ;;
    esac
    case $_web_app_max_body in '' | *[!0-9]*)
        _web_err "QUIRE_MAX_BODY must be a number of bytes, got '$_web_app_max_body'"; return 1 ;;
    esac
    case $_web_timeout in '' | *[!0-9]*)
        _web_err "QUIRE_WEB_START_TIMEOUT must be whole seconds"; return 1 ;;
    esac
    # Same rule as conf/lighttpd.conf: just above the app's limit.
    _web_max_body_kb=$(((_web_app_max_body + 1023) / 1024 + 64))
    # Where to probe: a wildcard address is reachable on loopback.
    case $_web_addr in
        0.0.0.0 | '') _web_probe_addr=127.0.0.1 ;;
        '::' | '[::]') _web_probe_addr=::1 ;;
        *) _web_probe_addr=${_web_addr#[}; _web_probe_addr=${_web_probe_addr%]} ;;
    esac
}

# Is the listen address one of this machine's? Checked before any probe so
# that the port probe never sends a packet anywhere else.
_web_addr_is_local() {
    case $_web_probe_addr in
        127.* | ::1 | localhost) return 0 ;;
    esac
    command -v ip >/dev/null 2>&1 || return 1
    ip -o addr show 2>/dev/null | awk -v a="$_web_probe_addr" '
        { split($4, x, "/"); if (x[1] == a) found = 1 }
        END { exit !found }'
}

# Print the validated, trimmed allowed origins, one per line.
_web_origin_list() {
    local o
    local -a parts
    IFS=, read -r -a parts <<<"$_web_origins"
    for o in "${parts[@]}"; do
        o=${o//[[:space:]]/}
        [[ -n $o ]] || continue
        if [[ $o == *[!]A-Za-z0-9.:/_[-]* ]]; then
            _web_err "QUIRE_ALLOWED_ORIGINS: bad character in origin '$o'"; return 1
        fi
        if [[ $o != http://?* && $o != https://?* ]]; then
            _web_err "QUIRE_ALLOWED_ORIGINS: origin '$o' must start with http:// or https://"; return 1
        fi
        if [[ ${o#*://} == */* ]]; then
            _web_err "QUIRE_ALLOWED_ORIGINS: origin '$o' must be scheme://host[:port] (no path, no trailing slash)"; return 1
        fi
        printf '%s\n' "$o"
    done
}

# Is PID alive? A zombie (exited, not yet reaped by its parent — for a
# daemon that is init, which may be slow) counts as gone.
_web_alive() {
    local stat
    kill -0 "$1" 2>/dev/null || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

_web_pidfile() { printf '%s/%s/%s.pid' "$_web_run_dir" "$1" "$1"; }

# PID of a running server of kind $1 started with this run dir, else status 1.
_web_pid_of() {
    local s=$1 f pid comm
    f=$(_web_pidfile "$s")
    [[ -r $f ]] || return 1
    pid=$(cat "$f" 2>/dev/null) || return 1
    pid=${pid//[[:space:]]/}
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    _web_alive "$pid" || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ $comm == "$s" ]] || return 1 # stale pid file, PID reused
    printf '%s\n' "$pid"
}

# Does something accept TCP connections on the port?
_web_port_open() {
    (exec 3<>"/dev/tcp/$_web_probe_addr/$_web_port") 2>/dev/null
}

web_pid() {
    local s pid
    case ${1:-} in '' | lighttpd | nginx) ;; *) _web_err "usage: web_pid [lighttpd|nginx]"; return 2 ;; esac
    _web_init || return 1
    for s in ${1:-lighttpd nginx}; do
        if pid=$(_web_pid_of "$s"); then
            printf '%s\n' "$pid"
            return 0
        fi
    done
    return 1
}

web_is_running() { web_pid "$@" >/dev/null; }

web_server() {
    local s
    _web_init || return 1
    for s in lighttpd nginx; do
        if _web_pid_of "$s" >/dev/null; then
            printf '%s\n' "$s"
            return 0
        fi
    done
    return 1
}

web_down() {
    local s pid i
    _web_init || return 1
    for s in lighttpd nginx; do
        pid=$(_web_pid_of "$s") || continue
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do # 10 s
            _web_alive "$pid" || break
            sleep 0.1
        done
        if _web_alive "$pid"; then
            _web_err "$s (pid $pid) did not stop after 10s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 30; i++)); do
                _web_alive "$pid" || break
                sleep 0.1
            done
        fi
        if _web_alive "$pid"; then
            _web_err "could not stop $s (pid $pid)"
            return 1
        fi
        rm -f "$(_web_pidfile "$s")"
    done
    return 0
}

# The upstream's server lines: the app's unix socket, or every app host
# of QUIRE_WEB_UPSTREAM (space-separated host:port, FastCGI over TCP;
# scripts/lib/ha.sh), round robin.
_web_upstream() {
    local h out=""
    if [[ -z ${QUIRE_WEB_UPSTREAM:-} ]]; then
        printf 'server unix:%s;' "$_web_socket"
        return
    fi
    for h in $QUIRE_WEB_UPSTREAM; do
        [[ $h =~ ^[0-9.]+:[0-9]+$ ]] || { _web_err "QUIRE_WEB_UPSTREAM: bad host:port '$h'"; return 1; }
        out+="server $h max_fails=0; "
    done
    printf '%s' "${out% }"
}

# Render conf/nginx.conf into $1, replacing the "@quire:<name>" lines.
_web_render_nginx() {
    local dst=$1 dir=$_web_run_dir/nginx listen user list origins="" o re
    case $_web_addr in *:*) listen="[${_web_probe_addr}]:$_web_port" ;; *) listen="$_web_addr:$_web_port" ;; esac
    if [[ -n $_web_user ]]; then
        user="user $_web_user;"
    elif ((EUID == 0)); then
        user="user root;"   # stay root: the app socket may be root-only
    else
        user="# user: not set, nginx is not started as root"
    fi
    list=$(_web_origin_list) || return 1
    while IFS= read -r o; do
        [[ -n $o ]] || continue
        re=${o//./\\.}       # anchored regex: escape the metacharacters an
        re=${re//\[/\\[}    # origin can contain (. [ ])
        re=${re//\]/\\]}
        origins+="        \"~^${re}\$\"  \$http_origin;"$'\n'
    done <<<"$list"

    W_USER=$user \
    W_PID="pid $dir/nginx.pid;" \
    W_ERROR_LOG="error_log $dir/error.log error;" \
    W_BODY_TEMP="client_body_temp_path $dir/tmp/body;" \
    W_FASTCGI_TEMP="fastcgi_temp_path $dir/tmp/fastcgi;" \
    W_PROXY_TEMP="proxy_temp_path $dir/tmp/proxy;" \
    W_UWSGI_TEMP="uwsgi_temp_path $dir/tmp/uwsgi;" \
    W_SCGI_TEMP="scgi_temp_path $dir/tmp/scgi;" \
    W_MAX_BODY="client_max_body_size ${_web_max_body_kb}k;" \
    W_SOCKET=$(_web_upstream) \
    W_LISTEN="listen $listen;" \
    W_ORIGINS=$origins \
    awk '
        BEGIN {
            n = split("user pid error_log body_temp fastcgi_temp proxy_temp uwsgi_temp scgi_temp max_body socket listen", k, " ")
            for (i = 1; i <= n; i++) want[k[i]] = ENVIRON["W_" toupper(k[i])]
        }
        /#[ \t]*@quire:origins-begin[ \t]*$/ { print; printf "%s", ENVIRON["W_ORIGINS"]; skip = 1; seen["origins-begin"] = 1; next }
        /#[ \t]*@quire:origins-end[ \t]*$/   { skip = 0; seen["origins-end"] = 1; print; next }
        skip { next }
        /#[ \t]*@quire:[a-z_]+[ \t]*$/ {
            line = $0
            sub(/[ \t]+$/, "", line)
            key = line; sub(/.*@quire:/, "", key)
            if (!(key in want)) { print "web: conf/nginx.conf: unknown marker @quire:" key > "/dev/stderr"; bad = 1; next }
            if (key in seen) { print "web: conf/nginx.conf: marker @quire:" key " appears twice" > "/dev/stderr"; bad = 1; next }
            match($0, /^[ \t]*/)
            print substr($0, 1, RLENGTH) want[key] "    # @quire:" key " (rendered by scripts/lib/web.sh)"
            seen[key] = 1
            next
        }
        { print }
        END {
            for (key in want) if (!(key in seen)) { print "web: conf/nginx.conf: marker @quire:" key " is missing" > "/dev/stderr"; bad = 1 }
            if (!seen["origins-begin"] || !seen["origins-end"]) { print "web: conf/nginx.conf: @quire:origins-begin/-end markers missing" > "/dev/stderr"; bad = 1 }
            exit bad
        }
    ' "$_WEB_CONF_DIR/nginx.conf" >"$dst.tmp" || { rm -f "$dst.tmp"; return 1; }
    mv -f "$dst.tmp" "$dst"
}

# The environment lighttpd's include_shell blocks read.
_web_lighttpd_env() {
    local dir=$_web_run_dir/lighttpd
    printf '%s\0' \
        "QUIRE_HTTP_ADDR=$_web_addr" \
        "QUIRE_HTTP_PORT=$_web_port" \
        "QUIRE_SOCKET=$_web_socket" \
        "QUIRE_ALLOWED_ORIGINS=$_web_origins" \
        "QUIRE_MAX_BODY=$_web_app_max_body" \
        "QUIRE_WEB_USER=$_web_user" \
        "QUIRE_WEB_PIDFILE=$dir/lighttpd.pid" \
        "QUIRE_WEB_ERRORLOG=$dir/error.log" \
        "QUIRE_WEB_TMPDIR=$dir/tmp"
}

# Print (to stderr) the last lines written to log $1 after byte offset $2.
_web_new_log() {
    [[ -f $1 ]] || return 0
    tail -c "+$(($2 + 1))" "$1" 2>/dev/null | tail -n 20 >&2 || true
}

web_up() {
    local server=${1:-} dir out pid i mark
    local -a envv=()
    case $server in
        lighttpd | nginx) ;;
        *) _web_err "usage: web_up lighttpd|nginx"; return 2 ;;
    esac
    if ! command -v "$server" >/dev/null 2>&1; then
        _web_err "$server is not installed (apt-get install $server)"; return 1
    fi
    _web_init || return 1
    if ! _web_addr_is_local; then
        _web_err "QUIRE_HTTP_ADDR '$_web_addr' is not an address of this machine"; return 1
    fi
    web_down || return 1
    if _web_port_open; then
        _web_err "port $_web_port on $_web_probe_addr is already in use by another process"; return 1
    fi

    dir=$_web_run_dir/$server
    mkdir -p "$dir/tmp" || return 1
    rm -f "$dir/$server.pid"
    # error.log is kept across runs; on failure show only what this run wrote
    mark=$(stat -c %s "$dir/error.log" 2>/dev/null) || mark=0

    case $server in
    lighttpd)
        _web_origin_list >/dev/null || return 1
        while IFS= read -r -d '' i; do envv+=("$i"); done < <(_web_lighttpd_env)
        if ! out=$(env "${envv[@]}" lighttpd -tt -f "$_WEB_CONF_DIR/lighttpd.conf" 2>&1); then
            _web_err "conf/lighttpd.conf is invalid (lighttpd -tt):"
            printf '%s\n' "$out" >&2
            return 1
        fi
        # lighttpd daemonizes itself and writes the pid file.
        if ! env "${envv[@]}" lighttpd -f "$_WEB_CONF_DIR/lighttpd.conf" \
            </dev/null >"$dir/start.log" 2>&1; then
            _web_err "lighttpd failed to start:"
            cat "$dir/start.log" >&2
            _web_new_log "$dir/error.log" "$mark"
            return 1
        fi
        ;;
    nginx)
        _web_render_nginx "$dir/nginx.conf" || return 1
        if ! out=$(nginx -t -q -e "$dir/error.log" -c "$dir/nginx.conf" 2>&1); then
            _web_err "nginx config is invalid (nginx -t, rendered from conf/nginx.conf to $dir/nginx.conf):"
            printf '%s\n' "$out" >&2
            return 1
        fi
        # nginx daemonizes itself (master) and writes the pid file.
        if ! nginx -e "$dir/error.log" -c "$dir/nginx.conf" \
            </dev/null >"$dir/start.log" 2>&1; then
            _web_err "nginx failed to start:"
            cat "$dir/start.log" >&2
            _web_new_log "$dir/error.log" "$mark"
            return 1
        fi
        ;;
    esac

    for ((i = 0; i < _web_timeout * 10; i++)); do
        if pid=$(_web_pid_of "$server") && _web_port_open; then
            return 0
        fi
        sleep 0.1
    done
    _web_err "$server did not answer on $_web_probe_addr:$_web_port within ${_web_timeout}s"
    _web_new_log "$dir/error.log" "$mark"
    web_down || true
    return 1
}
