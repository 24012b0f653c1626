#!/usr/bin/env bash
# eng/chaos-test.sh - the multi-process chaos test (tests/Sayiir.Chaos). Part of eng/test.sh.
#
#   bash eng/chaos-test.sh
#
# Three Sayiir.Silo processes (PostgreSQL storage, reminders and clustering; the fast membership settings of
# eng/cluster-test.sh; tests/Sayiir.Chaos is their module) run SAYIIR_CHAOS_RUNS runs of a workflow with a fork, a
# delay, a signal and a route (8 logging tasks of 50-400 ms each, plus the route's key selector). Every task execution
# records itself from inside the task in a table of its own (chaos_exec: run, task, attempt, pid, start, end). While
# runs are in flight a random silo is killed with SIGKILL every 5-8 s and replaced on new ports (SAYIIR_CHAOS_KILLS
# times), and PostgreSQL is crash-restarted once (eng/pgtest.sh restart-immediate). Then, with deadlines on every wait:
#   a. every run Completed with exactly the expected output;
#   b. zero unexplained re-executions: an attempt of a task that ran twice must have first run on a silo that was
#      killed while it was in flight (or within 1 s after it ended, its result not yet checkpointed); retries (a
#      higher attempt number after a failure) are not re-executions;
#   c. re-executions <= executions exposed to kills;
#   d. no task execution starts after its run completed;
#   e. no two executions of one task of one run overlap in time;
#   f. history complete and ordered (RunStarted first, one Completed and last, one TaskCompleted per task of the
#      chosen path after a TaskStarted of it, SignalReceived, DelayStarted/DelayWoken);
#   g. per kill, kill -> first progress of every run it interrupted <= 15 s (printed per kill; target <= 2 s).
#
# PostgreSQL: always a throwaway server of its own (it is crash-restarted, so never a shared one), started with
# eng/pgtest.sh on SAYIIR_CHAOS_PG_PORT in its own directory and deleted at exit.
#
# Settings (environment):
#   SAYIIR_CHAOS_RUNS           runs to start (default 120)
#   SAYIIR_CHAOS_KILLS          silo kills (default 5)
#   SAYIIR_CHAOS_SEED           random seed (default: random; printed)
#   SAYIIR_CHAOS_PG_PORT        port of the throwaway PostgreSQL (default 55436)
#   SAYIIR_CHAOS_TIME_LIMIT     seconds before the whole test is aborted (default 420)
#   SAYIIR_CHAOS_NO_BUILD=1     use the existing Release build output instead of building
#   SAYIIR_CHAOS_KEEP=1         keep the work directory (silo logs) after success
# Exit status 0 only when every invariant held. The last line is "chaos-test: PASS ..." or "chaos-test: FAIL <reason>".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

RUNS="${SAYIIR_CHAOS_RUNS:-120}"
KILLS="${SAYIIR_CHAOS_KILLS:-5}"
SEED="${SAYIIR_CHAOS_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
PG_PORT="${SAYIIR_CHAOS_PG_PORT:-55436}"
TIME_LIMIT="${SAYIIR_CHAOS_TIME_LIMIT:-420}"
CONFIG=Release
SILO_DLL="$REPO/src/Sayiir.Silo/bin/$CONFIG/net10.0/Sayiir.Silo.dll"
CHAOS_DLL="$REPO/tests/Sayiir.Chaos/bin/$CONFIG/net10.0/Sayiir.Chaos.dll"
PG_DIR="/tmp/sayiir-pgtest-chaos-$PG_PORT"

T0=$(date +%s)
say() { printf 'chaos-test [%3ss]: %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
VERDICT=""

mkdir -p "$REPO/artifacts"
WORK="$(mktemp -d "$REPO/artifacts/chaos-test.XXXXXX")"

# ----- cleanup: every process this script or the driver started, and the PostgreSQL server ----------------------
DRIVER=""
WATCHDOG=""
STARTED_PG=0
alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }
is_our_silo() { # a pid from the driver's pid file that is still one of our silo processes (not a reused pid)
  alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$SILO_DLL"
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n "$WATCHDOG" ]] && kill "$WATCHDOG" 2>/dev/null || true
  if alive "$DRIVER"; then
    kill -TERM "$DRIVER" 2>/dev/null || true
    for _ in $(seq 1 25); do alive "$DRIVER" || break; sleep 0.2; done
    alive "$DRIVER" && kill -KILL "$DRIVER" 2>/dev/null || true
  fi
  local pid
  if [[ -f "$WORK/silo.pids" ]]; then
    while read -r pid; do is_our_silo "$pid" && kill -KILL "$pid" 2>/dev/null || true; done <"$WORK/silo.pids"
  fi
  if [[ $STARTED_PG == 1 ]]; then
    PGTEST_PORT="$PG_PORT" PGTEST_DIR="$PG_DIR" bash "$REPO/eng/pgtest.sh" destroy >/dev/null 2>&1 || true
  fi
  if [[ -z "$VERDICT" ]]; then
    VERDICT="chaos-test: FAIL ${FAILED_REASON:-exit status $rc}"
    [[ $rc == 0 ]] && rc=1
  fi
  if [[ "$VERDICT" == "chaos-test: PASS"* && "${SAYIIR_CHAOS_KEEP:-}" != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "chaos-test: silo logs and the driver's output kept in $WORK"
  fi
  echo "$VERDICT"
  exit "$rc"
}
trap cleanup EXIT
trap 'FAILED_REASON="${FAILED_REASON:-interrupted}"; exit 130' INT
trap 'FAILED_REASON="${FAILED_REASON:-time limit of ${TIME_LIMIT}s exceeded (or terminated)}"; exit 143' TERM
( sleep "$TIME_LIMIT"; kill -TERM $$ 2>/dev/null ) </dev/null >/dev/null 2>&1 &
WATCHDOG=$!
fail() { FAILED_REASON="$*"; say "FAILURE: $*"; exit 1; }

# ----- build ------------------------------------------------------------------------------------------------------
if [[ "${SAYIIR_CHAOS_NO_BUILD:-}" != 1 ]]; then
  say "building Sayiir.Silo and Sayiir.Chaos ($CONFIG)"
  dotnet build "$REPO/src/Sayiir.Silo/Sayiir.Silo.csproj" -c "$CONFIG" -v q -nologo >"$WORK/build.log" 2>&1 \
    || fail "build of Sayiir.Silo failed (see $WORK/build.log)"
  dotnet build "$REPO/tests/Sayiir.Chaos/Sayiir.Chaos.csproj" -c "$CONFIG" -v q -nologo >>"$WORK/build.log" 2>&1 \
    || fail "build of Sayiir.Chaos failed (see $WORK/build.log)"
fi
for f in "$SILO_DLL" "$CHAOS_DLL"; do [[ -f "$f" ]] || fail "missing build output $f"; done

# ----- PostgreSQL of its own --------------------------------------------------------------------------------------
if PGTEST_PORT="$PG_PORT" PGTEST_DIR="$PG_DIR" bash "$REPO/eng/pgtest.sh" status >/dev/null 2>&1; then
  fail "a PostgreSQL server already runs in $PG_DIR (another chaos test?); set SAYIIR_CHAOS_PG_PORT"
fi
STARTED_PG=1
PGTEST_PORT="$PG_PORT" PGTEST_DIR="$PG_DIR" bash "$REPO/eng/pgtest.sh" destroy >/dev/null 2>&1 || true   # leftovers
PGTEST_PORT="$PG_PORT" PGTEST_DIR="$PG_DIR" bash "$REPO/eng/pgtest.sh" start >/dev/null 2>"$WORK/pgtest.log" \
  || fail "cannot start the throwaway PostgreSQL on 127.0.0.1:$PG_PORT (see $WORK/pgtest.log)"
say "throwaway PostgreSQL on 127.0.0.1:$PG_PORT ($PG_DIR); $RUNS runs, $KILLS kills, seed $SEED"

# ----- the driver -------------------------------------------------------------------------------------------------
set +e
dotnet "$CHAOS_DLL" \
  --postgres "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres;Timeout=5" \
  --work "$WORK" --silo-dll "$SILO_DLL" --pgtest "$REPO/eng/pgtest.sh" --pg-port "$PG_PORT" --pg-dir "$PG_DIR" \
  --runs "$RUNS" --kills "$KILLS" --seed "$SEED" </dev/null > >(tee "$WORK/driver.log") 2>&1 &
DRIVER=$!
wait "$DRIVER"
DRIVER_RC=$?
set -e
LAST="$(head -n1 "$WORK/verdict.txt" 2>/dev/null || true)"
[[ -n "$LAST" ]] || fail "the driver printed no verdict (status $DRIVER_RC; see $WORK/driver.log)"
if [[ "$LAST" == "chaos-test: PASS"* && $DRIVER_RC == 0 ]]; then
  VERDICT="$LAST"
  exit 0
fi
VERDICT="$LAST"
for log in "$WORK"/silo-*.log; do
  [[ -f "$log" ]] || continue
  if grep -qE 'fail:|crit:|Unhandled' "$log"; then
    say "errors in $(basename "$log"):"; grep -E -m5 'fail:|crit:|Unhandled' "$log" | cut -c1-240 || true
  fi
done
exit 1
