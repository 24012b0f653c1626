#!/usr/bin/env bash
# eng/cluster-test.sh - a real Sayiir cluster in separate processes: PostgreSQL + two Sayiir.Silo processes + the
# ClusterClient sample (the topology of docker-compose.yml). Part of eng/test.sh.
#
#   bash eng/cluster-test.sh
#
# 1. Unreachable PostgreSQL: Sayiir.Silo pointed at a closed port must exit non-zero within 30 s and name the
#    target (host:port/database).
# 2. Crash: two silos cluster through the PostgreSQL membership table (fast failure-detection settings, 2 s
#    recovery reminder). The client starts $SAYIIR_CLUSTER_RUNS runs of an 8-step workflow (400 ms per step) whose
#    tasks are registered only on the silos (module samples/ClusterWorkflows). While runs are in flight, the silo
#    executing more of them is killed with `kill -9`. Every run must complete with the expected output (the client
#    checks), and every run the dead silo was executing must make progress again on the survivor.
#
# How progress is measured: each step attempt appends "<unix ms> start|end <run> <step> <attempt>" to a journal file
# of its silo process (written and flushed per line, so a kill -9 loses nothing already written). A run was
# interrupted if the killed silo's journal has lines for it and does not end with the end of its last step; its
# recovery time is the first line the survivor wrote for it after the kill, minus the kill instant (the same
# machine clock for both). The re-started step is the earliest observable sign that the run was taken over.
#
# Settings (environment):
#   SAYIIR_TEST_POSTGRES        use this server (a fresh database is created there and dropped afterwards);
#                               otherwise a throwaway server is started with eng/pgtest.sh on SAYIIR_CLUSTER_PG_PORT
#   SAYIIR_CLUSTER_PG_PORT      port of that throwaway server (default 55434; own directory)
#   SAYIIR_CLUSTER_RUNS         runs to start (default 40)
#   SAYIIR_CLUSTER_TIME_LIMIT   seconds before the whole test is aborted (default 180)
#   SAYIIR_CLUSTER_NO_BUILD=1   use the existing Release build output instead of building
#   SAYIIR_CLUSTER_KEEP=1       keep the work directory (logs, journals) and the database after success
# Exit status 0 when every check passed. The last line printed is "cluster-test: PASS ..." or "cluster-test: FAIL ...".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

RUNS="${SAYIIR_CLUSTER_RUNS:-40}"
TIME_LIMIT="${SAYIIR_CLUSTER_TIME_LIMIT:-180}"
PG_PORT="${SAYIIR_CLUSTER_PG_PORT:-55434}"
STEPS=8                           # PipelineWorkflow.StepCount
STEP_DELAY="00:00:00.400"
CONFIG=Release
SILO_DLL="$REPO/src/Sayiir.Silo/bin/$CONFIG/net10.0/Sayiir.Silo.dll"
CLIENT_DLL="$REPO/samples/ClusterClient/bin/$CONFIG/net10.0/ClusterClient.dll"
MODULE_DLL="$REPO/samples/ClusterWorkflows/bin/$CONFIG/net10.0/ClusterWorkflows.dll"
# Fast failure detection (see src/Sayiir.Silo/README.md) and a short recovery reminder; the same as docker-compose.yml.
SILO_TIMINGS=(
  --Sayiir:Membership:ProbeTimeout 00:00:01
  --Sayiir:Membership:NumMissedProbesLimit 2
  --Sayiir:Membership:IAmAliveTablePublishTimeout 00:00:02
  --Sayiir:Membership:NumMissedTableIAmAliveLimit 2
  --Sayiir:Membership:TableRefreshTimeout 00:00:02
  --Sayiir:RecoveryReminderPeriod 00:00:02
)

T0=$(date +%s)
say() { printf 'cluster-test [%3ss]: %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
FAILED_REASON=""
fail() { FAILED_REASON="$*"; say "FAILURE: $*"; exit 1; }
now_ms() { date +%s%3N; }

mkdir -p "$REPO/artifacts"
WORK="$(mktemp -d "$REPO/artifacts/cluster-test.XXXXXX")"
JOURNAL="$WORK/journal"
mkdir -p "$JOURNAL"

# ----- cleanup ---------------------------------------------------------------------------------------------------
PIDS=()            # every process this script started (silos, client), by pid
STARTED_PG=0
DB_CREATED=0
WATCHDOG=""
SUCCESS=0

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n "$WATCHDOG" ]] && kill "$WATCHDOG" 2>/dev/null || true
  local pid
  for pid in "${PIDS[@]}"; do alive "$pid" && kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do   # up to 10 s for graceful shutdowns
    local any=0
    for pid in "${PIDS[@]}"; do alive "$pid" && any=1; done
    [[ $any == 0 ]] && break
    sleep 0.2
  done
  for pid in "${PIDS[@]}"; do alive "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $DB_CREATED == 1 && "${SAYIIR_CLUSTER_KEEP:-}" != 1 ]]; then
    admin_sql "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [[ $STARTED_PG == 1 ]]; then
    PGTEST_PORT="$PG_PORT" PGTEST_DIR="$PG_DIR" bash "$REPO/eng/pgtest.sh" stop >/dev/null 2>&1 || true
  fi
  if [[ $SUCCESS == 1 && "${SAYIIR_CLUSTER_KEEP:-}" != 1 ]]; then
    rm -rf "$WORK"
  else
    if [[ $SUCCESS == 0 ]]; then
      local log
      for log in "$WORK"/*.log; do
        [[ -f "$log" ]] || continue
        echo "----- last lines of $(basename "$log") -----"
        tail -n 25 "$log"
      done
    fi
    echo "cluster-test: logs and journals kept in $WORK"
  fi
  if [[ $SUCCESS == 1 ]]; then
    echo "cluster-test: PASS - $SUMMARY"
  else
    echo "cluster-test: FAIL - ${FAILED_REASON:-exit status $rc}"
    [[ $rc == 0 ]] && rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'FAILED_REASON="${FAILED_REASON:-interrupted}"; exit 130' INT
trap 'FAILED_REASON="${FAILED_REASON:-time limit of ${TIME_LIMIT}s exceeded (or terminated)}"; exit 143' TERM
( sleep "$TIME_LIMIT"; kill -TERM $$ 2>/dev/null ) </dev/null >/dev/null 2>&1 &
WATCHDOG=$!

# ----- PostgreSQL ------------------------------------------------------------------------------------------------
PSQL="$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n1 || true)"
[[ -n "$PSQL" && -x "$PSQL" ]] || fail "psql not found (install the PostgreSQL client)"

cs_get() { # $1 = connection string, $2... = lower-case key aliases (spaces removed); prints the value
  local part key alias IFS=';'
  for part in $1; do
    key="$(printf '%s' "${part%%=*}" | tr '[:upper:]' '[:lower:]' | tr -d ' ')"
    for alias in "${@:2}"; do
      if [[ "$key" == "$alias" ]]; then printf '%s' "${part#*=}"; return; fi
    done
  done
}
cs_without_database() {
  local part key out="" IFS=';'
  for part in $1; do
    [[ -z "${part// /}" ]] && continue
    key="$(printf '%s' "${part%%=*}" | tr '[:upper:]' '[:lower:]' | tr -d ' ')"
    [[ "$key" == database || "$key" == db ]] && continue
    out+="$part;"
  done
  printf '%s' "$out"
}

if [[ -n "${SAYIIR_TEST_POSTGRES:-}" ]]; then
  BASE_CS="$SAYIIR_TEST_POSTGRES"
  say "using the PostgreSQL server of SAYIIR_TEST_POSTGRES"
else
  PG_DIR="/tmp/sayiir-pgtest-cluster-$PG_PORT"
  if ! PGTEST_PORT="$PG_PORT" PGTEST_DIR="$PG_DIR" bash "$REPO/eng/pgtest.sh" status >/dev/null 2>&1; then STARTED_PG=1; fi
  PGTEST_PORT="$PG_PORT" PGTEST_DIR="$PG_DIR" bash "$REPO/eng/pgtest.sh" start >/dev/null
  BASE_CS="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
  say "using throwaway PostgreSQL on 127.0.0.1:$PG_PORT"
fi
PG_HOST="$(cs_get "$BASE_CS" host server)"; PG_HOST="${PG_HOST:-localhost}"
PG_PORT_USED="$(cs_get "$BASE_CS" port)"; PG_PORT_USED="${PG_PORT_USED:-5432}"
PG_USER="$(cs_get "$BASE_CS" username userid user)"; PG_USER="${PG_USER:-postgres}"
PG_PASSWORD="$(cs_get "$BASE_CS" password pwd)"
PG_MAINT_DB="$(cs_get "$BASE_CS" database db)"; PG_MAINT_DB="${PG_MAINT_DB:-postgres}"
admin_sql() {
  PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=10 "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT_USED" \
    -U "$PG_USER" -d "$PG_MAINT_DB" -tAc "$1"
}
db_sql() { # runs $1 in the test database
  PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=10 "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT_USED" \
    -U "$PG_USER" -d "$DB" -tAc "$1"
}
DB="sayiir_cluster_$(date +%s)_$$_$RANDOM"
admin_sql "CREATE DATABASE \"$DB\"" >/dev/null || fail "cannot create database $DB on $PG_HOST:$PG_PORT_USED"
DB_CREATED=1
CS="$(cs_without_database "$BASE_CS")Database=$DB"
say "fresh database $DB"

# ----- build -----------------------------------------------------------------------------------------------------
if [[ "${SAYIIR_CLUSTER_NO_BUILD:-}" != 1 ]]; then
  say "building Sayiir.Silo and ClusterClient ($CONFIG)"
  dotnet build "$REPO/src/Sayiir.Silo/Sayiir.Silo.csproj" -c "$CONFIG" -v q -nologo >"$WORK/build.log" 2>&1 \
    || fail "build of Sayiir.Silo failed (see $WORK/build.log)"
  dotnet build "$REPO/samples/ClusterClient/ClusterClient.csproj" -c "$CONFIG" -v q -nologo >>"$WORK/build.log" 2>&1 \
    || fail "build of ClusterClient failed (see $WORK/build.log)"
fi
for f in "$SILO_DLL" "$CLIENT_DLL" "$MODULE_DLL"; do [[ -f "$f" ]] || fail "missing build output $f"; done

# ----- ports -----------------------------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
TAKEN=" "
free_port() { # first port >= $1 that nothing listens on and this script has not handed out
  local p=$1
  while port_open "$p" || [[ "$TAKEN" == *" $p "* ]]; do p=$((p + 1)); done
  TAKEN+="$p "
  echo "$p"
}
SILO_PORT_A=$(free_port 21141); SILO_PORT_B=$(free_port $((SILO_PORT_A + 1)))
GW_PORT_A=$(free_port 31141);   GW_PORT_B=$(free_port $((GW_PORT_A + 1)))
CLOSED_PORT=$(free_port 45141)
DASH_PORT_A=$(free_port 18141);  DASH_PORT_B=$(free_port $((DASH_PORT_A + 1)))
CLUSTER_ID="cluster-test-$$-$RANDOM"

# ----- 1. unreachable PostgreSQL at start-up ---------------------------------------------------------------------
say "check 1: Sayiir.Silo with PostgreSQL at a closed port (127.0.0.1:$CLOSED_PORT)"
UNREACHABLE_DB="sayiir_unreachable"
start=$(now_ms)
set +e
timeout -k 5 40 dotnet "$SILO_DLL" \
  --Sayiir:Postgres "Host=127.0.0.1;Port=$CLOSED_PORT;Database=$UNREACHABLE_DB;Username=sayiir;Timeout=5" \
  --Sayiir:SiloPort "$(free_port 21241)" --Sayiir:GatewayPort "$(free_port 31241)" --Sayiir:AdvertisedAddress 127.0.0.1 \
  >"$WORK/unreachable.log" 2>&1 </dev/null
rc=$?
set -e
elapsed=$(( $(now_ms) - start ))
if [[ $rc == 0 ]]; then fail "Sayiir.Silo exited 0 although PostgreSQL is unreachable"; fi
if [[ $rc == 124 || $rc == 137 ]]; then fail "Sayiir.Silo did not exit within 40 s although PostgreSQL is unreachable"; fi
if (( elapsed > 30000 )); then fail "Sayiir.Silo took $((elapsed / 1000)) s (> 30 s) to report unreachable PostgreSQL"; fi
grep -q "127.0.0.1:$CLOSED_PORT" "$WORK/unreachable.log" && grep -q "$UNREACHABLE_DB" "$WORK/unreachable.log" \
  || fail "Sayiir.Silo's output does not name the target 127.0.0.1:$CLOSED_PORT/$UNREACHABLE_DB"
UNREACHABLE_MSG="$(grep -m1 '^Sayiir.Silo: ' "$WORK/unreachable.log" || true)"
say "  exit status $rc after $(awk -v ms="$elapsed" 'BEGIN { printf "%.1f", ms / 1000 }') s: ${UNREACHABLE_MSG:-(no summary line)}"
[[ -n "$UNREACHABLE_MSG" ]] || fail "Sayiir.Silo printed no 'Sayiir.Silo: ...' summary line for unreachable PostgreSQL"

# ----- 2. two silos, kill -9 one mid-run -------------------------------------------------------------------------
# Both silos store runs encrypted at rest (Sayiir:Encryption), with the same throwaway key.
ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)"
start_silo() { # $1 = name, $2 = silo port, $3 = gateway port, $4 = dashboard port; sets LAST_PID
  dotnet "$SILO_DLL" \
    --Sayiir:Postgres "$CS" --Sayiir:ClusterId "$CLUSTER_ID" --Sayiir:ServiceId sayiir-cluster-test \
    --Sayiir:SiloPort "$2" --Sayiir:GatewayPort "$3" --Sayiir:AdvertisedAddress 127.0.0.1 --Sayiir:Dashboard:Port "$4" \
    --Sayiir:Encryption:ActiveKeyId cluster-test --Sayiir:Encryption:Keys:cluster-test "$ENCRYPTION_KEY" \
    "${SILO_TIMINGS[@]}" \
    --Sayiir:Modules "$MODULE_DLL" \
    --ClusterWorkflows:JournalDirectory "$JOURNAL" --ClusterWorkflows:StepDelay "$STEP_DELAY" \
    >"$WORK/$1.log" 2>&1 </dev/null &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
wait_started() { # $1 = name, $2 = pid, $3 = deadline (epoch s)
  until grep -q "Sayiir silo started" "$WORK/$1.log" 2>/dev/null; do
    alive "$2" || fail "$1 exited during start-up (see $WORK/$1.log)"
    (( $(date +%s) < $3 )) || fail "$1 did not start within the time allowed"
    sleep 0.2
  done
}

say "check 2: starting silo-a (silo $SILO_PORT_A, gateway $GW_PORT_A) and silo-b (silo $SILO_PORT_B, gateway $GW_PORT_B), cluster $CLUSTER_ID"
start_silo silo-a "$SILO_PORT_A" "$GW_PORT_A" "$DASH_PORT_A"; PID_A=$LAST_PID
start_silo silo-b "$SILO_PORT_B" "$GW_PORT_B" "$DASH_PORT_B"; PID_B=$LAST_PID
deadline=$(( $(date +%s) + 90 ))
wait_started silo-a "$PID_A" "$deadline"
wait_started silo-b "$PID_B" "$deadline"
active=""
until [[ "$active" == 2 ]]; do
  active="$(db_sql "SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = '$CLUSTER_ID' AND status = 3" 2>/dev/null || true)"
  (( $(date +%s) < deadline )) || fail "the membership table never showed 2 active silos (last: '${active}')"
  [[ "$active" == 2 ]] || sleep 0.2
done
say "  both silos active in the membership table (pids $PID_A, $PID_B)"

say "starting ClusterClient: $RUNS runs of $STEPS steps x ${STEP_DELAY#00:00:0}s"
dotnet "$CLIENT_DLL" \
  --Sayiir:Postgres "$CS" --Sayiir:ClusterId "$CLUSTER_ID" --Sayiir:ServiceId sayiir-cluster-test \
  --ClusterClient:Runs "$RUNS" --ClusterClient:RunIdPrefix run --ClusterClient:Timeout 00:02:00 \
  >"$WORK/client.log" 2>&1 </dev/null &
PID_CLIENT=$!
PIDS+=("$PID_CLIENT")

# In-flight runs of one silo's journal: runs whose last line is not the end of the last step.
in_flight() { # $1 = journal file
  [[ -f "$1" ]] || { echo 0; return; }
  awk -v last="step-$STEPS" '{ ev[$3] = $2 " " $4 } END { n = 0; for (r in ev) if (ev[r] != "end " last) n++; print n }' "$1"
}
steps_done() { # step attempts completed so far, on all silos
  local files=("$JOURNAL"/steps-*.log)
  [[ -f "${files[0]}" ]] || { echo 0; return; }
  awk '$2 == "end" { n++ } END { print n + 0 }' "${files[@]}"
}
# Wait until the runs are well under way (on average two steps done) with runs in flight on both silos.
deadline=$(( $(date +%s) + 60 ))
while :; do
  alive "$PID_CLIENT" || fail "ClusterClient exited before the kill (see $WORK/client.log)"
  ends=$(steps_done)
  fa=$(in_flight "$JOURNAL/steps-$PID_A.log"); fb=$(in_flight "$JOURNAL/steps-$PID_B.log")
  if (( ends >= RUNS * 2 && fa > 0 && fb > 0 )); then break; fi
  (( $(date +%s) < deadline )) || fail "runs did not get under way on both silos within 60 s (steps done: $ends, in flight: silo-a $fa, silo-b $fb)"
  sleep 0.1
done
if (( fa >= fb )); then VICTIM=silo-a; VICTIM_PID=$PID_A; SURVIVOR=silo-b; SURVIVOR_PID=$PID_B
else VICTIM=silo-b; VICTIM_PID=$PID_B; SURVIVOR=silo-a; SURVIVOR_PID=$PID_A; fi
KILL_MS=$(now_ms)
kill -KILL "$VICTIM_PID"
{ wait "$VICTIM_PID"; } 2>/dev/null || true   # reap it quietly (no "Killed" job message)
say "kill -9 $VICTIM (pid $VICTIM_PID) with $(( fa >= fb ? fa : fb )) run(s) in flight on it ($(( fa >= fb ? fb : fa )) on $SURVIVOR), $ends steps done"

deadline=$(( $(date +%s) + 150 ))
while alive "$PID_CLIENT"; do
  (( $(date +%s) < deadline )) || fail "ClusterClient did not finish within 150 s after the kill"
  alive "$SURVIVOR_PID" || fail "the surviving silo $SURVIVOR exited (see $WORK/$SURVIVOR.log)"
  sleep 0.2
done
set +e; wait "$PID_CLIENT"; CLIENT_RC=$?; set -e
CLIENT_SUMMARY="$(grep -m1 'run(s) completed with the expected output' "$WORK/client.log" || true)"
say "client: ${CLIENT_SUMMARY:-(no summary)} (exit status $CLIENT_RC)"
grep -E 'WRONG|FAILED|NOT FINISHED' "$WORK/client.log" | head -n 10 || true
[[ $CLIENT_RC == 0 ]] || fail "ClusterClient exited with status $CLIENT_RC"
[[ "$CLIENT_SUMMARY" == *"$RUNS/$RUNS run(s) completed"* ]] || fail "not every run completed with the expected output"
alive "$SURVIVOR_PID" || fail "the surviving silo $SURVIVOR exited (see $WORK/$SURVIVOR.log)"

# ----- the dashboard the surviving silo serves (Sayiir:Dashboard:Port) ----------------------------------------------
if [[ $SURVIVOR == silo-a ]]; then DASH_PORT=$DASH_PORT_A; else DASH_PORT=$DASH_PORT_B; fi
DASH="http://127.0.0.1:$DASH_PORT/sayiir"
grep -q "Sayiir dashboard serving at http://127.0.0.1:$DASH_PORT/sayiir/" "$WORK/$SURVIVOR.log" \
  || fail "$SURVIVOR did not log that it serves the dashboard on port $DASH_PORT"
curl -fsS "$DASH/" | grep -q '<title>' || fail "the dashboard page at $DASH/ did not load"
COUNTS="$(curl -fsS "$DASH/api/runs/counts?prefix=run")" || fail "GET $DASH/api/runs/counts failed"
python3 -c 'import json,sys; c=json.loads(sys.argv[1]); n=int(sys.argv[2]); sys.exit(0 if c["total"]==n and c["counts"].get("Completed")==n else 1)' \
  "$COUNTS" "$RUNS" || fail "the dashboard of $SURVIVOR counts $COUNTS, expected $RUNS completed runs"
say "dashboard of $SURVIVOR at $DASH/: $COUNTS"
SEALED="$(db_sql "SELECT count(*) FROM orleansstorage WHERE graintypestring = 'sayiir-run' AND position(convert_to('\"SayiirSealed\"', 'UTF8') IN payloadbinary) > 0")"
[[ "$SEALED" == "$RUNS" ]] || fail "expected the $RUNS run states sealed by Sayiir:Encryption, found $SEALED"
say "run states sealed at rest (Sayiir:Encryption): $SEALED/$RUNS"

# ----- kill -> first progress of every interrupted run ------------------------------------------------------------
# Per interrupted run: kill -> first progress (the number this test is about), kill -> last step ended on the
# survivor, kill -> the client received the result (includes the client's own wait for a lost long-poll).
REPORT="$WORK/recovery.txt"
awk -v kill="$KILL_MS" -v last="step-$STEPS" '
  FNR == 1 { file++ }
  file == 1 { ev[$3] = $2 " " $4; next }                                    # the killed silo
  file == 2 && $1 >= kill && !($3 in first) { first[$3] = $1; what[$3] = $2 " " $4 }
  file == 2 && $1 >= kill && $2 == "end" && $4 == last { done[$3] = $1 }
  file == 3 && / completed at .*unix ms / { r = $2; sub(":", "", r); ms = $0; sub(/.*unix ms /, "", ms); sub(/\).*/, "", ms); seen[r] = ms }
  END {
    for (r in ev) {
      if (ev[r] == "end " last) continue
      fin = (r in done) ? sprintf("%.2f", (done[r] - kill) / 1000) : "-"
      cli = (r in seen) ? sprintf("%.2f", (seen[r] - kill) / 1000) : "-"
      if (r in first) printf "ok %.3f %s %s %s %s | %s\n", (first[r] - kill) / 1000, r, fin, cli, ev[r], what[r]
      else printf "missing - %s %s %s %s | (none)\n", r, fin, cli, ev[r]
    }
  }' "$JOURNAL/steps-$VICTIM_PID.log" "$JOURNAL/steps-$SURVIVOR_PID.log" "$WORK/client.log" | sort -k2,2g >"$REPORT"
INTERRUPTED=$(wc -l <"$REPORT")
MISSING=$(grep -c '^missing' "$REPORT" || true)
(( INTERRUPTED > 0 )) || fail "the kill interrupted no run (nothing to measure)"
say "interrupted runs, seconds after the kill -9 of $VICTIM (progress and steps on $SURVIVOR):"
printf '  %-10s %14s %12s %12s   %-22s %s\n' run "first progress" "last step" "client got" "killed during" "first step after the kill"
while read -r status secs run fin cli ev1 ev2 _ after; do
  printf '  %-10s %14s %12s %12s   %-22s %s\n' "$run" "$([[ $status == ok ]] && echo "$secs" || echo MISSING)" "$fin" "$cli" "$ev1 $ev2" "$after"
done <"$REPORT"
(( MISSING == 0 )) || fail "$MISSING interrupted run(s) never made progress on the survivor"
stats() { # $1 = column of $REPORT; prints min/median/max
  awk -v c="$1" '$c != "-" { v[++n] = $c } END { if (!n) { print "n/a"; exit }
    printf "min %.2f s, median %.2f s, max %.2f s", v[1], (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2), v[n] }' \
    < <(sort -k"$1","$1"g "$REPORT")
}
STATS="$(stats 2)"
say "interrupted runs: $INTERRUPTED; kill -> first progress: $STATS"
say "  kill -> last step ended: $(stats 4); kill -> client got the result: $(stats 5)"

SUCCESS=1
SUMMARY="unreachable PostgreSQL reported in $(awk -v ms="$elapsed" 'BEGIN { printf "%.1f", ms / 1000 }') s (exit $rc); $RUNS/$RUNS runs completed after kill -9 of $VICTIM; $INTERRUPTED interrupted run(s) resumed, kill -> first progress $STATS; total $(( $(date +%s) - T0 )) s"
