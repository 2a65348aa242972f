# shellcheck shell=bash
# scripts/lib/mail.sh - the mail side of the local stack: `quirectl
# mail-worker`, and (QUIRE_MAIL_SINK=1) a recording SMTP server,
# tests/smtp_sink.py, both stopped by PID. Sourced by scripts/stack.
#
# Settings (environment; defaults in brackets):
#   QUIRE_MAIL_SINK [0]      1: run the sink and send to it over SMTP
#   QUIRE_SMTP_PORT [8025]   the sink's port
#   QUIRE_MAIL_URL           [file:$QUIRE_RUN_DIR/mail, or with the sink
#                            smtp://127.0.0.1:$QUIRE_SMTP_PORT]
#   QUIRE_MAIL_FROM          [quire <no-reply@quire.test>]
#   QUIRE_MAIL_CA_FILE       [with the sink: its self-signed certificate]
#   QUIRE_APP_URL            [http://127.0.0.1:3000]
#   QUIRE_MAIL_WORKER_ARGS   extra options for the worker (--poll 1 ...)
# Delivered messages land in $QUIRE_RUN_DIR/mail either way (QUIRE_MAIL_DIR
# in stack.env): .eml files named by Message-ID from the file: transport,
# by arrival from the sink.
#
# Public functions: mail_init, mail_worker_start|stop|kill|pid|is_running,
# mail_sink_start|stop|pid|is_running, mail_sink_mode WORDS...

: "${QUIRE_RUN_DIR:=$PWD/build/run}"

# mail_init [keep]: settles the mail settings. With keep (every command
# but `up`), a setting the environment does not give is taken from the
# running stack's stack.env, so `scripts/stack mail-worker-start` from a
# test's shell starts the worker the stack was brought up with.
mail_init() {
	local keep=${1:-} f=$QUIRE_RUN_DIR/stack.env v k
	if [ -n "$keep" ] && [ -f "$f" ]; then
		for k in QUIRE_MAIL_SINK QUIRE_SMTP_PORT QUIRE_MAIL_URL QUIRE_MAIL_FROM \
		    QUIRE_MAIL_CA_FILE QUIRE_APP_URL; do
			if [ -z "${!k:-}" ] && v=$(sed -n "s/^$k=//p" "$f" | tail -n 1) &&
			    [ -n "$v" ]; then
				export "$k=$v"
			fi
		done
	fi
	export QUIRE_MAIL_SINK=${QUIRE_MAIL_SINK:-0}
	export QUIRE_SMTP_PORT=${QUIRE_SMTP_PORT:-8025}
	export QUIRE_MAIL_FROM=${QUIRE_MAIL_FROM:-quire <no-reply@quire.test>}
	export QUIRE_APP_URL=${QUIRE_APP_URL:-http://127.0.0.1:3000}
	MAIL_SINK_DIR=$QUIRE_RUN_DIR/mail-sink
	if [ "$QUIRE_MAIL_SINK" = 1 ]; then
		export QUIRE_MAIL_URL=${QUIRE_MAIL_URL:-smtp://127.0.0.1:$QUIRE_SMTP_PORT}
		export QUIRE_MAIL_CA_FILE=${QUIRE_MAIL_CA_FILE:-$MAIL_SINK_DIR/tls/cert.pem}
	else
		export QUIRE_MAIL_URL=${QUIRE_MAIL_URL:-file:$QUIRE_RUN_DIR/mail}
		export QUIRE_MAIL_CA_FILE=${QUIRE_MAIL_CA_FILE:-}
	fi
	case "$QUIRE_MAIL_URL" in
	"file:$QUIRE_RUN_DIR/mail" | "smtp://127.0.0.1:$QUIRE_SMTP_PORT"*)
		export QUIRE_MAIL_DIR=$QUIRE_RUN_DIR/mail ;;
	*) export QUIRE_MAIL_DIR= ;;
	esac
}

_mail_pid() { [ -f "$1" ] && cat "$1"; }
_mail_alive() { local p; p=$(_mail_pid "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# _mail_stop PIDFILE NAME SECONDS: SIGTERM, then SIGKILL after SECONDS.
_mail_stop() {
	local f=$1 name=$2 secs=$3 pid
	pid=$(_mail_pid "$f") || return 0
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 $((secs * 10))); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "$name did not stop in $secs s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$f"
}

mail_sink_pidfile() { echo "$QUIRE_RUN_DIR/mail-sink.pid"; }
mail_sink_pid() { _mail_pid "$(mail_sink_pidfile)"; }
mail_sink_is_running() { _mail_alive "$(mail_sink_pidfile)"; }

# mail_sink_start: the recording SMTP server on 127.0.0.1:$QUIRE_SMTP_PORT,
# offering STARTTLS with a certificate of its own (made on first start).
mail_sink_start() {
	mail_sink_is_running && return 0
	mkdir -p "$MAIL_SINK_DIR" "$QUIRE_RUN_DIR/mail"
	rm -f "$MAIL_SINK_DIR/ready" "$MAIL_SINK_DIR/mode"
	# Debian's python3-aiosmtpd imports only under the system python.
	# shellcheck disable=SC2154 # root: scripts/stack's
	/usr/bin/python3 "$root/tests/smtp_sink.py" --port "$QUIRE_SMTP_PORT" \
	    --dir "$QUIRE_RUN_DIR/mail" --state "$MAIL_SINK_DIR" \
	    --tls-dir "$MAIL_SINK_DIR/tls" </dev/null \
	    >>"$QUIRE_RUN_DIR/mail-sink.log" 2>&1 &
	echo $! >"$(mail_sink_pidfile)"
	for _ in $(seq 1 100); do
		[ -f "$MAIL_SINK_DIR/ready" ] && return 0
		if ! mail_sink_is_running; then
			echo "the SMTP sink failed to start; last lines of $QUIRE_RUN_DIR/mail-sink.log:" >&2
			tail -n 20 "$QUIRE_RUN_DIR/mail-sink.log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "the SMTP sink did not start within 10 s" >&2
	return 1
}

mail_sink_stop() { _mail_stop "$(mail_sink_pidfile)" "the SMTP sink" 5; }

# mail_sink_mode WORDS...: normal | 421 | 550 | 421-data | 550-data |
# 421-after-data | notls, and delay=S (tests/smtp_sink.py).
mail_sink_mode() {
	mkdir -p "$MAIL_SINK_DIR"
	echo "$*" >"$MAIL_SINK_DIR/mode.tmp"
	mv -f "$MAIL_SINK_DIR/mode.tmp" "$MAIL_SINK_DIR/mode"
}

mail_worker_pidfile() { echo "$QUIRE_RUN_DIR/mail-worker.pid"; }
mail_worker_pid() { _mail_pid "$(mail_worker_pidfile)"; }
mail_worker_is_running() { _mail_alive "$(mail_worker_pidfile)"; }

# The worker's settings, as its QUIRE_ENV_FILE: the app's database URL
# (every server; libpq picks the writable one) and role, and the mail
# settings.
mail_write_env() {
	mkdir -p "$QUIRE_RUN_DIR"
	{
		echo "QUIRE_PRIMARY_URL=${QUIRE_PRIMARY_URL_OVERRIDE:-postgresql://quire_app@127.0.0.1:$QUIRE_PG_PRIMARY_PORT,127.0.0.1:$QUIRE_PG_REPLICA_PORT/quire?target_session_attrs=read-write}"
		echo "QUIRE_MAIL_URL=$QUIRE_MAIL_URL"
		echo "QUIRE_MAIL_FROM=$QUIRE_MAIL_FROM"
		echo "QUIRE_MAIL_CA_FILE=$QUIRE_MAIL_CA_FILE"
		echo "QUIRE_LOG_LEVEL=${QUIRE_LOG_LEVEL:-info}"
	} >"$QUIRE_RUN_DIR/mail-worker.env"
}

# mail_worker_start: `quirectl mail-worker` with mail-worker.env, logging
# to $QUIRE_RUN_DIR/mail-worker.log; returns once it has started.
mail_worker_start() {
	local log=$QUIRE_RUN_DIR/mail-worker.log start
	mail_worker_is_running && return 0
	mail_write_env
	mkdir -p "$QUIRE_RUN_DIR/mail"
	start=$(wc -l 2>/dev/null <"$log" || echo 0)
	# shellcheck disable=SC2086
	QUIRE_ENV_FILE=$QUIRE_RUN_DIR/mail-worker.env "$QUIRECTL" mail-worker \
	    ${QUIRE_MAIL_WORKER_ARGS:-} </dev/null >>"$log" 2>&1 &
	echo $! >"$(mail_worker_pidfile)"
	for _ in $(seq 1 100); do
		if tail -n +"$((start + 1))" "$log" | grep -q 'msg=started'; then
			return 0
		fi
		if ! mail_worker_is_running; then
			echo "the mail worker failed to start; last lines of $log:" >&2
			tail -n 20 "$log" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "the mail worker did not start within 5 s" >&2
	return 1
}

# SIGTERM lets it finish the message in flight (up to one SMTP timeout).
mail_worker_stop() { _mail_stop "$(mail_worker_pidfile)" "the mail worker" 70; }

mail_worker_kill() {
	local pid
	pid=$(mail_worker_pid) || return 0
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	rm -f "$(mail_worker_pidfile)"
}

# mail_up / mail_down: what `scripts/stack up` / `down` do for mail.
mail_up() {
	if [ "$QUIRE_MAIL_SINK" = 1 ]; then
		mail_sink_start || return 1
	fi
	mail_worker_start
}

mail_down() {
	mail_worker_stop || true
	mail_sink_stop || true
}
