#!/usr/bin/env bash
# eng/test.sh - THE command that builds Sayiir and runs all its tests, on a fresh machine or in CI.
#
#   bash eng/test.sh [extra `dotnet test` args]     e.g. bash eng/test.sh --filter "FullyQualifiedName~Postgres"
#
# PostgreSQL: if SAYIIR_TEST_POSTGRES (an Npgsql connection string whose user may CREATE DATABASE) is set, the
# tests use that server. Otherwise a throwaway server is started with eng/pgtest.sh on 127.0.0.1:$PGTEST_PORT
# (default 55432) and stopped again at exit if this script started it. Missing PostgreSQL binaries are installed
# with apt-get when running as root. PostgreSQL tests never skip: without SAYIIR_TEST_POSTGRES they fail.
#
# Browser: the dashboard's browser tests (tests/Sayiir.Dashboard.Tests) drive Debian's Chromium with Playwright for .NET
# (no browser download). If neither CHROMIUM_PATH nor `chromium` exists it is installed with apt-get when running as
# root (`apt-get install -y --no-install-recommends chromium`); otherwise those tests fail, saying how to install it.
#
# After `dotnet test`, eng/package-test.sh packs the NuGet packages and builds and runs a small app that installs them
# by package; it counts as one test (SAYIIR_SKIP_PACKAGE_TEST=1 skips it).
# Then eng/cluster-test.sh runs real processes (two silos, the ClusterClient sample, kill -9 of
# one silo mid-run) against the same PostgreSQL server; it counts as one test (SAYIIR_SKIP_CLUSTER_TEST=1 skips it).
# Then eng/chaos-test.sh (three silos, repeated kill -9 with replacements, a PostgreSQL crash-restart, invariant
# checks) on a throwaway PostgreSQL server of its own; it counts as one test (SAYIIR_SKIP_CHAOS_TEST=1 skips it).
#
# Results: TRX files in $SAYIIR_TEST_RESULTS (default artifacts/test-results); the last line printed is
# "<passed> passed, <failed> failed, <skipped> skipped" (the package, cluster and chaos tests included). Exit status is non-zero if
# the build or a test failed, or if no test ran.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

RESULTS="${SAYIIR_TEST_RESULTS:-$REPO/artifacts/test-results}"
PGTEST_PORT="${PGTEST_PORT:-55432}"
export PGTEST_PORT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

say() { echo "test.sh: $*" >&2; }
die() { echo "test.sh: error: $*" >&2; exit 1; }

have_pg_binaries() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then return 0; fi
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null
}

ensure_pg_binaries() {
  have_pg_binaries && return 0
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "PostgreSQL binaries not found; installing them with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    have_pg_binaries || die "apt-get installed postgresql but initdb/pg_ctl are still not found"
  else
    die "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them (e.g. 'sudo apt-get install postgresql'),
or set PG_BIN to their directory, or set SAYIIR_TEST_POSTGRES to a server where the user may CREATE DATABASE."
  fi
}

have_chromium() {
  if [[ -n "${CHROMIUM_PATH:-}" ]]; then [[ -x "$CHROMIUM_PATH" ]]; return; fi
  command -v chromium >/dev/null 2>&1
}

ensure_chromium() {
  have_chromium && return 0
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "Chromium not found; installing it with apt-get (for the dashboard's browser tests)"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
    have_chromium || die "apt-get installed chromium but it is still not found"
  else
    say "warning: Chromium not found and not root: the dashboard's browser tests will fail. Install it with
'sudo apt-get install -y --no-install-recommends chromium', or set CHROMIUM_PATH to a Chromium executable."
  fi
}

STARTED_PG=0
cleanup() {
  if [[ $STARTED_PG == 1 ]]; then
    bash "$REPO/eng/pgtest.sh" stop || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "${SAYIIR_TEST_POSTGRES:-}" ]]; then
  ensure_pg_binaries
  if ! bash "$REPO/eng/pgtest.sh" status >/dev/null 2>&1; then
    STARTED_PG=1
  fi
  bash "$REPO/eng/pgtest.sh" start >/dev/null
  export SAYIIR_TEST_POSTGRES="Host=127.0.0.1;Port=$PGTEST_PORT;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50"
  say "using throwaway PostgreSQL on 127.0.0.1:$PGTEST_PORT"
else
  say "using PostgreSQL from SAYIIR_TEST_POSTGRES"
fi

ensure_chromium

rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# Build the whole solution first: `dotnet test` on a solution only builds the test projects' graphs, so a broken
# sample or host project would otherwise go unnoticed.
set +e
dotnet build "$REPO/Sayiir.sln" -c Release
BUILD_RC=$?
TEST_RC=0
if [[ $BUILD_RC -eq 0 ]]; then
  dotnet test "$REPO/Sayiir.sln" -c Release --no-build \
    --logger "trx;LogFilePrefix=sayiir-tests" --results-directory "$RESULTS" "$@"
  TEST_RC=$?
fi
set -e

# A multi-process test counts as one test: run_process_test NAME SKIP_VARIABLE NO_BUILD_VARIABLE SCRIPT sets
# PROCESS_PASSED, PROCESS_FAILED and PROCESS_SKIPPED (0 or 1 each). It runs on the Release build above.
run_process_test() {
  local name=$1 skip_var=$2 no_build_var=$3 script=$4 rc
  PROCESS_PASSED=0 PROCESS_FAILED=0 PROCESS_SKIPPED=0
  if [[ "${!skip_var:-}" == 1 ]]; then
    say "$name test skipped ($skip_var=1)"
    PROCESS_SKIPPED=1
  elif [[ $BUILD_RC -ne 0 ]]; then
    say "$name test not run: the build failed"
    PROCESS_SKIPPED=1
  else
    set +e
    env "$no_build_var=1" bash "$script"
    rc=$?
    set -e
    if [[ $rc -eq 0 ]]; then PROCESS_PASSED=1; else PROCESS_FAILED=1; say "$name test failed (status $rc)"; fi
  fi
}

# The package test, eng/package-test.sh: packs Sayiir.Abstractions and Sayiir.Grains (unique prerelease version,
# temporary folder) and builds and runs tests/PackageConsumer against them by package. SAYIIR_SKIP_PACKAGE_TEST=1 skips it.
run_process_test package SAYIIR_SKIP_PACKAGE_TEST SAYIIR_PACKAGE_NO_BUILD "$REPO/eng/package-test.sh"
PACKAGE_PASSED=$PROCESS_PASSED PACKAGE_FAILED=$PROCESS_FAILED PACKAGE_SKIPPED=$PROCESS_SKIPPED

# The cluster test, eng/cluster-test.sh: real processes (two Sayiir.Silo on PostgreSQL clustering and the
# ClusterClient sample), one silo killed with kill -9 mid-run. It uses the PostgreSQL server above (a fresh
# database). SAYIIR_SKIP_CLUSTER_TEST=1 skips it.
run_process_test cluster SAYIIR_SKIP_CLUSTER_TEST SAYIIR_CLUSTER_NO_BUILD "$REPO/eng/cluster-test.sh"
CLUSTER_PASSED=$PROCESS_PASSED CLUSTER_FAILED=$PROCESS_FAILED CLUSTER_SKIPPED=$PROCESS_SKIPPED

# The chaos test, eng/chaos-test.sh: three Sayiir.Silo processes, a random one killed with kill -9 every 5-8 s and
# replaced, PostgreSQL crash-restarted once; every run must complete with its exact output, and no task may run again
# unless its silo died under it (see the script's header for every invariant). It provisions its own throwaway
# PostgreSQL (it restarts it, so never the server above). SAYIIR_SKIP_CHAOS_TEST=1 skips it.
run_process_test chaos SAYIIR_SKIP_CHAOS_TEST SAYIIR_CHAOS_NO_BUILD "$REPO/eng/chaos-test.sh"
CHAOS_PASSED=$PROCESS_PASSED CHAOS_FAILED=$PROCESS_FAILED CHAOS_SKIPPED=$PROCESS_SKIPPED

# Sum the <Counters .../> of every TRX file. skipped = total - executed; failed = executed - passed
# (counts failed, error, timeout and aborted tests alike).
attr() { # $1 = attribute name, stdin = a <Counters .../> element; prints 0 when absent
  local v; v="$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p")"
  echo "${v:-0}"
}
TOTAL=0 EXECUTED=0 PASSED=0 FILES=0
while IFS= read -r -d '' trx; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1 || true)"
  [[ -n "$counters" ]] || { say "no <Counters> in $trx"; continue; }
  FILES=$((FILES + 1))
  TOTAL=$((TOTAL + $(attr total <<<"$counters")))
  EXECUTED=$((EXECUTED + $(attr executed <<<"$counters")))
  PASSED=$((PASSED + $(attr passed <<<"$counters")))
done < <(find "$RESULTS" -name '*.trx' -print0)

FAILED=$((EXECUTED - PASSED + PACKAGE_FAILED + CLUSTER_FAILED + CHAOS_FAILED))
SKIPPED=$((TOTAL - EXECUTED + PACKAGE_SKIPPED + CLUSTER_SKIPPED + CHAOS_SKIPPED))

STATUS=0
if [[ $BUILD_RC -ne 0 ]]; then say "dotnet build failed (status $BUILD_RC)"; STATUS=1; fi
if [[ $TEST_RC -ne 0 ]]; then say "dotnet test exited with status $TEST_RC"; STATUS=1; fi
if [[ $BUILD_RC -eq 0 && $FILES -eq 0 ]]; then say "no TRX result files in $RESULTS"; STATUS=1; fi
if [[ $FAILED -gt 0 ]]; then STATUS=1; fi
if [[ $BUILD_RC -eq 0 && $EXECUTED -eq 0 ]]; then say "no test ran"; STATUS=1; fi

PASSED=$((PASSED + PACKAGE_PASSED + CLUSTER_PASSED + CHAOS_PASSED))

cleanup 2>/dev/null   # stop our server now, so the summary below is the last line
STARTED_PG=0
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
exit $STATUS
