#!/usr/bin/env bash
# eng/pgtest.sh - throwaway PostgreSQL server for Sayiir's tests (idempotent, safe to run as root).
#
#   eng/pgtest.sh start            initdb (first time only) and start on 127.0.0.1:$PGTEST_PORT;
#                                  prints the `export` lines of `env` on stdout
#   eng/pgtest.sh stop             fast shutdown (no-op if not running)
#   eng/pgtest.sh status           prints running/stopped; exit 0 if running, 3 if not
#   eng/pgtest.sh restart-immediate  crash-restart: `pg_ctl stop -m immediate` (no checkpoint, every backend
#                                  killed, like a power cut for PostgreSQL alone), then start again (chaos test)
#   eng/pgtest.sh env              print export lines (PGHOST/PGPORT/... and SAYIIR_TEST_POSTGRES)
#   eng/pgtest.sh createdb NAME    create an empty database NAME (no-op if it exists)
#   eng/pgtest.sh psql [ARGS...]   psql against the maintenance database `postgres`
#   eng/pgtest.sh destroy          stop and delete $PGTEST_DIR
#
# No schema is applied here: Sayiir installs its own PostgreSQL schema at start-up.
#
# Settings (environment):
#   PGTEST_PORT      TCP port on 127.0.0.1             (default 55432)
#   PGTEST_DIR       cluster dir (data, socket, log)   (default /tmp/sayiir-pgtest-$PGTEST_PORT)
#   PGTEST_OS_USER   OS account that runs the server when invoked as root (default sayiir-pgtest;
#                    created with useradd if missing). Ignored when not root.
#   PG_BIN           dir with initdb/pg_ctl/postgres (default: from PATH, else newest
#                    /usr/lib/postgresql/*/bin)
# The server runs with fsync=off etc.: for tests only, never for real data.
# `eval "$(eng/pgtest.sh start)"` exports the connection settings (messages go to stderr).
set -euo pipefail

PGTEST_PORT="${PGTEST_PORT:-55432}"
PGTEST_DIR="${PGTEST_DIR:-/tmp/sayiir-pgtest-${PGTEST_PORT}}"
PGTEST_OS_USER="${PGTEST_OS_USER:-sayiir-pgtest}"
DATA="$PGTEST_DIR/data"
SOCK="$PGTEST_DIR/sock"
LOG="$PGTEST_DIR/server.log"

die() { echo "pgtest: $*" >&2; exit 1; }
log() { echo "pgtest: $*" >&2; }

find_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"; return
  fi
  local d; d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [[ -n "$d" && -x "$d/pg_ctl" ]] \
    || die "PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)"
  echo "$d"
}

psql_bin() {
  if command -v psql >/dev/null 2>&1; then command -v psql; else echo "$BIN/psql"; fi
}

# Run a server-side command as the unprivileged owner (initdb/postgres refuse to run as root).
# fd 9 (our flock) is closed so the daemonized postmaster does not inherit and hold the lock.
as_owner() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u "$PGTEST_OS_USER" -- "$@" 9>&-)
  else
    (cd / && "$@" 9>&-)
  fi
}

ensure_os_user() {
  [[ $EUID -eq 0 ]] || return 0
  if ! id -u "$PGTEST_OS_USER" >/dev/null 2>&1; then
    log "creating OS user $PGTEST_OS_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$PGTEST_OS_USER" 2>/dev/null \
      || id -u "$PGTEST_OS_USER" >/dev/null 2>&1 \
      || die "useradd $PGTEST_OS_USER failed"
  fi
}

q() { # query the maintenance db, tuples only
  "$(psql_bin)" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGTEST_PORT" -U postgres -d postgres -tAc "$1"
}

# Running = the postmaster.pid process exists, is not a zombie, and is a postgres of THIS data dir
# (pg_ctl status alone is fooled by a just-killed, not yet reaped postmaster).
is_running() {
  local pid st
  pid=$(head -n1 "$DATA/postmaster.pid" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  [[ -n "$st" && "$st" != Z ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DATA"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$PGTEST_PORT") 2>/dev/null; }

cmd_start() {
  BIN="$(find_bin)"
  ensure_os_user
  mkdir -p "$PGTEST_DIR"
  if [[ $EUID -eq 0 ]]; then
    chown "$PGTEST_OS_USER": "$PGTEST_DIR"
    as_owner test -w "$PGTEST_DIR" \
      || die "$PGTEST_OS_USER cannot write $PGTEST_DIR (a parent dir is not traversable? use a dir under /tmp)"
  fi
  as_owner mkdir -p "$SOCK"
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    rm -rf "$DATA"   # leftover of an interrupted initdb
    log "initdb $DATA"
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C \
             --no-sync --no-instructions >/dev/null
    as_owner sh -c "cat >> '$DATA/postgresql.conf'" <<'EOF'
# --- eng/pgtest.sh: throwaway test settings (NOT durable) ---
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 500
shared_buffers = 128MB
log_min_messages = warning
log_min_error_statement = error
EOF
  fi
  if is_running; then
    local running_port; running_port=$(sed -n 4p "$DATA/postmaster.pid")
    [[ "$running_port" == "$PGTEST_PORT" ]] \
      || die "cluster in $PGTEST_DIR already runs on port $running_port, not $PGTEST_PORT"
    log "already running (port $PGTEST_PORT, dir $PGTEST_DIR)"
  else
    if port_busy; then die "port $PGTEST_PORT is in use by another process; set PGTEST_PORT"; fi
    log "starting on 127.0.0.1:$PGTEST_PORT"
    local try
    for try in 1 2 3 4 5; do   # retries cover a crashed server whose children still hold shared memory
      if as_owner "$BIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t 60 -s \
           -o "-p $PGTEST_PORT -k $SOCK -c listen_addresses=127.0.0.1"; then
        break
      fi
      if [[ $try == 5 ]]; then tail -n 30 "$LOG" >&2 || true; die "server failed to start (log: $LOG)"; fi
      log "start attempt $try failed; retrying"; sleep 2
    done
  fi
  cmd_env
}

cmd_stop() {
  if is_running; then
    BIN="$(find_bin)"
    as_owner "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 -s
    log "stopped"
  else
    log "not running"
  fi
}

cmd_restart_immediate() {
  is_running || die "not running"
  BIN="$(find_bin)"
  as_owner "$BIN/pg_ctl" stop -D "$DATA" -m immediate -w -t 60 -s
  log "stopped (immediate)"
  cmd_start >/dev/null
}

cmd_env() {
  cat <<EOF
export PGHOST=127.0.0.1 PGPORT=$PGTEST_PORT PGUSER=postgres PGDATABASE=postgres
export SAYIIR_TEST_POSTGRES="Host=127.0.0.1;Port=$PGTEST_PORT;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50"
EOF
}

cmd_createdb() {
  local name="${1:?usage: pgtest.sh createdb NAME}"
  [[ "$name" =~ ^[A-Za-z0-9_]{1,63}$ ]] || die "invalid database name: $name"
  is_running || die "not running"
  BIN="$(find_bin)"
  if [[ "$(q "SELECT 1 FROM pg_database WHERE datname='$name'")" == 1 ]]; then
    log "$name exists"; return 0
  fi
  q "CREATE DATABASE \"$name\"" >/dev/null
  log "created $name"
}

lock() { # serialize concurrent invocations on the same cluster dir
  mkdir -p "$(dirname "$PGTEST_DIR")"
  exec 9>"$PGTEST_DIR.lock"
  flock -w 120 9 || die "timed out waiting for $PGTEST_DIR.lock"
}

case "${1:-}" in
  start|stop|restart-immediate|createdb|destroy) lock ;;
esac
case "${1:-}" in
  start)    cmd_start ;;
  stop)     cmd_stop ;;
  restart-immediate) cmd_restart_immediate ;;
  status)   if is_running; then echo running; else echo stopped; exit 3; fi ;;
  env)      cmd_env ;;
  createdb) shift; cmd_createdb "$@" ;;
  psql)     shift; BIN="$(find_bin)"
            exec "$(psql_bin)" -X -h 127.0.0.1 -p "$PGTEST_PORT" -U postgres -d postgres "$@" ;;
  destroy)  cmd_stop; rm -rf "$PGTEST_DIR" "$PGTEST_DIR.lock"; log "removed $PGTEST_DIR" ;;
  *) sed -n '2,24p' "$0"; exit 2 ;;
esac
