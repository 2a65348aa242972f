# shellcheck shell=bash
# scripts/lib/app.sh - runs the quire workers under spawn-fcgi on a unix
# socket. Sourced by scripts/stack.

: "${QUIRE_RUN_DIR:=$PWD/build/run}"
: "${QUIRE_SOCKET:=$QUIRE_RUN_DIR/quire.sock}"
: "${QUIRE_WORKERS:=4}"

app_pidfile() { echo "$QUIRE_RUN_DIR/app.pid"; }

app_pid() {
	local f
	f=$(app_pidfile)
	[ -f "$f" ] && cat "$f"
}

app_is_running() {
	local pid
	pid=$(app_pid) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# The worker PIDs: children of the supervising parent, or the one
# process itself when it serves alone. The revocation listener
# (quire-listen, include/notify.h) is a child too, but serves nothing.
app_worker_pids() {
	local pid
	pid=$(app_pid) || return 0
	if [ "${QUIRE_WORKERS:-4}" -eq 1 ]; then
		echo "$pid"
	else
		ps -o pid=,comm= --ppid "$pid" 2>/dev/null |
		    awk '$2 != "quire-listen" { print $1 }'
	fi
}

# The revocation listener's PID (a child of the app's process), if any.
app_listener_pid() {
	local pid
	pid=$(app_pid) || return 0
	ps -o pid=,comm= --ppid "$pid" 2>/dev/null |
	    awk '$2 == "quire-listen" { print $1 }'
}

# The run directory's QUIRE_SECRET_KEY, $QUIRE_RUN_DIR/secret.key: 32
# random bytes in base64, made on first use and kept, so the secrets a
# test stack sealed still open after a restart.
app_secret_key() {
	local f=$QUIRE_RUN_DIR/secret.key
	[ -s "$f" ] && return 0
	(umask 077 && head -c 32 /dev/urandom | base64 >"$f.tmp" && mv "$f.tmp" "$f")
}

# Writes the environment the app runs with to $QUIRE_RUN_DIR/app.env.
app_write_env() {
	mkdir -p "$QUIRE_RUN_DIR"
	{
		# The primary as an HA deployment names it: every server, and
		# libpq picks the one that accepts writes (failover needs no restart).
		# The app logs in as quire_app, which may read and write rows
		# and nothing else (scripts/lib/pg.sh).
		echo "QUIRE_PRIMARY_URL=${QUIRE_PRIMARY_URL_OVERRIDE:-postgresql://quire_app@127.0.0.1:$QUIRE_PG_PRIMARY_PORT,127.0.0.1:$QUIRE_PG_REPLICA_PORT/quire?target_session_attrs=read-write}"
		echo "QUIRE_REPLICA_URL=${QUIRE_REPLICA_URL_OVERRIDE:-$(pg_url replica app)}"
		echo "QUIRE_ALLOWED_ORIGINS=${QUIRE_ALLOWED_ORIGINS:-}"
		echo "QUIRE_COOKIE_SECURE=${QUIRE_COOKIE_SECURE:-0}"
		echo "QUIRE_SESSION_TTL=${QUIRE_SESSION_TTL:-604800}"
		echo "QUIRE_MAX_BODY=${QUIRE_MAX_BODY:-1048576}"
		echo "QUIRE_MAX_PAGE_BYTES=${QUIRE_MAX_PAGE_BYTES:-4194304}"
		echo "QUIRE_REQUEST_TIMEOUT=${QUIRE_REQUEST_TIMEOUT:-10}"
		echo "QUIRE_AUTH_RATE_LIMIT=${QUIRE_AUTH_RATE_LIMIT:-10}"
		echo "QUIRE_TRUSTED_PROXIES=${QUIRE_TRUSTED_PROXIES:-}"
		echo "QUIRE_MAX_REPLICA_LAG=${QUIRE_MAX_REPLICA_LAG:-30}"
		echo "QUIRE_LOG_LEVEL=${QUIRE_LOG_LEVEL:-info}"
		echo "QUIRE_DB_CONNECT_TIMEOUT=${QUIRE_DB_CONNECT_TIMEOUT:-2}"
		echo "QUIRE_STATEMENT_TIMEOUT_MS=${QUIRE_STATEMENT_TIMEOUT_MS:-5000}"
		echo "QUIRE_SLOW_QUERY_MS=${QUIRE_SLOW_QUERY_MS:-200}"
		echo "QUIRE_SHM_PATH=${QUIRE_SHM_PATH:-}"
		# Empty: on when mail is configured.
		echo "QUIRE_VERIFY_ON_SIGNUP=${QUIRE_VERIFY_ON_SIGNUP:-}"
		echo "QUIRE_REQUIRE_VERIFIED=${QUIRE_REQUIRE_VERIFIED:-0}"
		# Seals the TOTP secrets (2FA). Unset: the run directory's own
		# key (made once, mode 600), so 2FA works in the dev and test
		# stacks; set to the empty string: none, 2FA answers 503.
		if [ -z "${QUIRE_SECRET_KEY+set}" ]; then
			app_secret_key || return 1
			echo "QUIRE_SECRET_KEY=$(cat "$QUIRE_RUN_DIR/secret.key")"
		elif [ -n "$QUIRE_SECRET_KEY" ]; then
			echo "QUIRE_SECRET_KEY=$QUIRE_SECRET_KEY"
		fi
		if [ -n "${QUIRE_TOTP_ISSUER:-}" ]; then
			echo "QUIRE_TOTP_ISSUER=$QUIRE_TOTP_ISSUER"
		fi
		# Shared by every app host of a service (docs/deploy.md).
		if [ -n "${QUIRE_POSITION_KEY:-}" ]; then
			echo "QUIRE_POSITION_KEY=$QUIRE_POSITION_KEY"
		fi
		# Mail (scripts/lib/mail.sh): the app only queues it; the
		# worker sends it.
		echo "QUIRE_APP_URL=${QUIRE_APP_URL:-http://127.0.0.1:3000}"
		echo "QUIRE_MAIL_URL=${QUIRE_MAIL_URL:-file:$QUIRE_RUN_DIR/mail}"
		echo "QUIRE_MAIL_FROM=${QUIRE_MAIL_FROM:-quire <no-reply@quire.test>}"
		echo "QUIRE_SESSION_MAX_AGE=${QUIRE_SESSION_MAX_AGE:-2592000}"
		echo "QUIRE_AUDIT_RETENTION_DAYS=${QUIRE_AUDIT_RETENTION_DAYS:-365}"
		# A file read at start and on each reload (SIGHUP), when set.
		if [ -n "${QUIRE_ENV_FILE:-}" ]; then
			echo "QUIRE_ENV_FILE=$QUIRE_ENV_FILE"
		fi
		# Test-only hooks (include/shm.h), for tests that ask for them
		# by name; never in production.
		if [ -n "${QUIRE_TEST_HOOKS:-}" ]; then
			echo "QUIRE_TEST_HOOKS=$QUIRE_TEST_HOOKS"
		fi
	} >"$QUIRE_RUN_DIR/app.env"
}

# app_up BINARY: starts the supervisor with $QUIRE_WORKERS workers (and
# --batch $QUIRE_BATCH when set).
app_up() {
	local bin=$1 pid i
	if app_is_running; then
		return 0
	fi
	app_write_env
	rm -f "$QUIRE_SOCKET"
	rm -f "$QUIRE_RUN_DIR/app.exit" "$(app_pidfile)"
	# spawn-fcgi -n execs quire in place, so the recorded PID is quire's
	# own; the wrapper stays behind only to record its exit status.
	(
		# KEY=value lines, as systemd's EnvironmentFile: read, not
		# sourced, so a value may hold blanks and '<' (QUIRE_MAIL_FROM).
		while IFS= read -r line; do
			case "$line" in '' | '#'*) continue ;; esac
			export "${line%%=*}=${line#*=}"
		done <"$QUIRE_RUN_DIR/app.env"
		# QUIRE_BATCH: quire's experimental --batch N (bench/results.md).
		args=(--workers "$QUIRE_WORKERS")
		[ -n "${QUIRE_BATCH:-}" ] && args+=(--batch "$QUIRE_BATCH")
		if [ -n "${QUIRE_FCGI_PORT:-}" ]; then
			# An app host of several (scripts/lib/ha.sh): FastCGI over TCP.
			spawn-fcgi -n -a 127.0.0.1 -p "$QUIRE_FCGI_PORT" -- "$bin" "${args[@]}" &
		else
			spawn-fcgi -n -s "$QUIRE_SOCKET" -M 0666 -- "$bin" "${args[@]}" &
		fi
		echo $! >"$QUIRE_RUN_DIR/app.pid.tmp"
		mv "$QUIRE_RUN_DIR/app.pid.tmp" "$QUIRE_RUN_DIR/app.pid"
		st=0
		wait $! || st=$?
		echo "$st" >"$QUIRE_RUN_DIR/app.exit"
	) </dev/null >>"$QUIRE_RUN_DIR/app.log" 2>&1 &
	for i in $(seq 1 100); do
		[ -s "$(app_pidfile)" ] && break
		sleep 0.02
	done
	pid=$(app_pid)
	for i in $(seq 1 100); do
		# One worker serves in the supervisor's place: no children then.
		if { [ -S "$QUIRE_SOCKET" ] || { [ -n "${QUIRE_FCGI_PORT:-}" ] &&
		    (exec 3<>"/dev/tcp/127.0.0.1/$QUIRE_FCGI_PORT") 2>/dev/null; }; } &&
		    { [ "$QUIRE_WORKERS" -eq 1 ] ||
		    [ "$(app_worker_pids | wc -l)" -ge "$QUIRE_WORKERS" ]; }; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "quire failed to start; last lines of $QUIRE_RUN_DIR/app.log:" >&2
			tail -n 20 "$QUIRE_RUN_DIR/app.log" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "quire did not start within 5 s" >&2
	return 1
}

app_down() {
	local pid i
	pid=$(app_pid) || return 0
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "quire did not stop in 10 s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$(app_pidfile)" "$QUIRE_SOCKET"
}
