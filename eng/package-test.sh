#!/usr/bin/env bash
# eng/package-test.sh - proves a user can install Sayiir from its packages. Part of eng/test.sh.
#
#   bash eng/package-test.sh
#
# 1. Packs every packable src/ project with eng/pack.sh into a temporary folder, under a unique prerelease version
#    (<Version>-packagetest.<time>.<pid>): no feed and no NuGet cache can hold a package of that version, so what is
#    restored below is what was just packed. Checks that each project gave a .nupkg (with README.md, LICENSE, the
#    XML docs and an MIT license expression) and a .snupkg.
# 2. Copies tests/PackageConsumer (not in Sayiir.sln, none of the repository's build settings or central package
#    versions) to the temporary folder with a nuget.config adding the packed folder as a package source; the feeds
#    configured on the machine still serve Orleans and the rest. It references Sayiir.Grains, Sayiir.Testing and Sayiir.Dashboard BY
#    PACKAGE at exactly that version (Sayiir.Abstractions comes as their dependency) and is built with warnings as errors.
# 3. Checks the restore took Sayiir.* as packages of that version from the packed folder, then runs the app: a
#    co-hosted silo on the in-memory default runs a two-step flow, then a Sayiir.Testing environment runs a one-day
#    delay on virtual time, then a web app serves the dashboard whose API lists a run; it must print "package-consumer: PASS".
#
# Settings (environment):
#   SAYIIR_PACKAGE_NO_BUILD=1   pack the existing Release build output instead of building first (eng/test.sh)
#   SAYIIR_PACKAGE_KEEP=1       keep the temporary folder (packages, consumer app) after success
# The packed versions are removed from the NuGet global packages folder at exit. Exit status 0 when every check
# passed; the last line printed is "package-test: PASS ..." or "package-test: FAIL ...".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

T0=$(date +%s)
say() { printf 'package-test [%3ss]: %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
WORK=""
fail() {
  say "FAILURE: $*"
  [[ -z "$WORK" ]] || say "work directory kept: $WORK"
  echo "package-test: FAIL $*"
  exit 1
}

# The version in the root Directory.Build.props, made unique.
BASE_VERSION="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$REPO/Directory.Build.props" | head -n1)"
[[ -n "$BASE_VERSION" ]] || fail "no <Version> in Directory.Build.props"
VERSION="${BASE_VERSION%%-*}-packagetest.$(date -u +%Y%m%d%H%M%S).$$"

mapfile -t PROJECTS < <(grep -L '<IsPackable>false</IsPackable>' "$REPO"/src/*/*.csproj | sort)
[[ ${#PROJECTS[@]} -gt 0 ]] || fail "no packable project under src/"
IDS=()
for project in "${PROJECTS[@]}"; do IDS+=("$(basename "$project" .csproj)"); done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sayiir-package-test.XXXXXX")"
GLOBAL_PACKAGES="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')"
OK=0
cleanup() {
  # This run's packages in the shared NuGet cache are never needed again (their version is unique).
  if [[ -n "$GLOBAL_PACKAGES" ]]; then
    for id in "${IDS[@]}"; do
      rm -rf "${GLOBAL_PACKAGES%/}/${id,,}/${VERSION,,}"
      rmdir "${GLOBAL_PACKAGES%/}/${id,,}" 2>/dev/null || true   # only when no other version is left
    done
  fi
  if [[ $OK == 1 && "${SAYIIR_PACKAGE_KEEP:-}" != 1 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

say "packing ${IDS[*]} as $VERSION"
if [[ "${SAYIIR_PACKAGE_NO_BUILD:-}" != 1 ]]; then
  for project in "${PROJECTS[@]}"; do dotnet build "$project" -c Release --nologo -v:q >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log"; fail "building ${project#"$REPO"/} failed"; }; done
fi
# --no-build: the packages hold the Release binaries built above (or by eng/test.sh); only the package version is
# the unique one.
SAYIIR_PACKAGE_OUTPUT="$WORK/packages" bash "$REPO/eng/pack.sh" --no-build -p:Version="$VERSION" >"$WORK/pack.log" 2>&1 \
  || { cat "$WORK/pack.log"; fail "eng/pack.sh failed"; }

for id in "${IDS[@]}"; do
  nupkg="$WORK/packages/$id.$VERSION.nupkg"
  [[ -f "$nupkg" ]] || fail "$id: no $id.$VERSION.nupkg"
  [[ -f "$WORK/packages/$id.$VERSION.snupkg" ]] || fail "$id: no symbol package $id.$VERSION.snupkg"
  entries="$(unzip -Z1 "$nupkg")"
  for entry in README.md LICENSE "lib/net10.0/$id.dll" "lib/net10.0/$id.xml"; do
    grep -qx "$entry" <<<"$entries" || fail "$id.nupkg has no $entry"
  done
  nuspec="$(unzip -p "$nupkg" "$id.nuspec")"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || fail "$id.nuspec has no MIT license expression"
  grep -q '<readme>README.md</readme>' <<<"$nuspec" || fail "$id.nuspec names no readme"
done
unzip -p "$WORK/packages/Sayiir.Grains.$VERSION.nupkg" Sayiir.Grains.nuspec \
  | grep -q "<dependency id=\"Sayiir.Abstractions\" version=\"$VERSION\"" \
  || fail "Sayiir.Grains does not depend on the Sayiir.Abstractions package $VERSION"
say "packages: $(cd "$WORK/packages" && echo *)"

CONSUMER="$WORK/consumer"
mkdir -p "$CONSUMER"
cp "$REPO"/tests/PackageConsumer/{PackageConsumer.csproj,Program.cs,Directory.Build.props,Directory.Packages.props} "$CONSUMER/"
cat >"$CONSUMER/nuget.config" <<'CONFIG'
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="sayiir-package-test" value="../packages" />
  </packageSources>
</configuration>
CONFIG

say "building the consumer app (Sayiir.Grains, Sayiir.Testing and Sayiir.Dashboard $VERSION by package)"
dotnet build "$CONSUMER/PackageConsumer.csproj" -c Release --nologo -p:SayiirPackageVersion="$VERSION" >"$WORK/consumer-build.log" 2>&1 \
  || { cat "$WORK/consumer-build.log"; fail "the consumer app did not build"; }

# The restore must have used the packed folder as a source and taken each Sayiir assembly from a package of this
# version (project.assets.json lists a library as "<id>/<version>": { "sha512": ..., "type": "package" | "project" }).
ASSETS="$CONSUMER/obj/project.assets.json"
grep -qF "\"$WORK/packages" "$ASSETS" || fail "the restore did not use the packed folder as a package source"
for id in "${IDS[@]}"; do
  grep -A3 -F "\"$id/$VERSION\": {" "$ASSETS" | grep -q '"type": "package"' \
    || fail "$id $VERSION was not restored as a package (a new package must be referenced by tests/PackageConsumer)"
done

say "running the consumer app"
set +e
timeout 120 dotnet "$CONSUMER/bin/Release/net10.0/PackageConsumer.dll" >"$WORK/consumer-run.log" 2>&1
rc=$?
set -e
cat "$WORK/consumer-run.log"
[[ $rc -eq 0 ]] || fail "the consumer app exited with status $rc"
grep -qx 'package-consumer: PASS' "$WORK/consumer-run.log" || fail "the consumer app did not print its PASS line"

OK=1
[[ "${SAYIIR_PACKAGE_KEEP:-}" != 1 ]] || say "work directory kept: $WORK"
echo "package-test: PASS (${IDS[*]} $VERSION installed by package and ran a flow, $(( $(date +%s) - T0 )) s)"
