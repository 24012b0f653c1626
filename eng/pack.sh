#!/usr/bin/env bash
# eng/pack.sh - packs Sayiir's NuGet packages: every project under src/ whose .csproj does not say
# <IsPackable>false</IsPackable> (today Sayiir.Abstractions, Sayiir.Grains, Sayiir.Testing and Sayiir.Dashboard), each as a .nupkg and a .snupkg
# (symbols), Release configuration. Package metadata lives in src/Directory.Build.props.
#
#   bash eng/pack.sh [extra `dotnet pack` args]     e.g. bash eng/pack.sh -p:Version=0.2.0-preview.1
#
# Output: $SAYIIR_PACKAGE_OUTPUT (default artifacts/packages). Package validation runs as part of pack.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${SAYIIR_PACKAGE_OUTPUT:-$REPO/artifacts/packages}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

mapfile -t PROJECTS < <(grep -L '<IsPackable>false</IsPackable>' "$REPO"/src/*/*.csproj | sort)
[[ ${#PROJECTS[@]} -gt 0 ]] || { echo "pack.sh: error: no packable project under src/" >&2; exit 1; }

mkdir -p "$OUT"
for project in "${PROJECTS[@]}"; do
  echo "pack.sh: packing ${project#"$REPO"/}" >&2
  dotnet pack "$project" -c Release -o "$OUT" --nologo "$@"
done
echo "pack.sh: packages in $OUT:" >&2
ls -1 "$OUT" >&2
