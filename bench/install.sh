#!/usr/bin/env bash
# Install time of the packed package, with and without prebuilds, and its size
# (docs/benchmarks.md, "Install"). Needs the prebuilds (scripts/prebuild.sh)
# and a C toolchain for the source build. Dependencies come from npm's cache
# (--prefer-offline), so the times are Butter's own.
#   bench/install.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -d "$work.prebuilds" ] && mv "$work.prebuilds" prebuilds' EXIT

with=$(npm pack --silent --ignore-scripts --pack-destination "$work")
mv prebuilds "$work.prebuilds"
mkdir "$work/bare" && bare=$(npm pack --silent --ignore-scripts --pack-destination "$work/bare")
mv "$work.prebuilds" prebuilds

install() { # label tarball [npm flags...] -> one line per run
  local label=$1 tarball=$2
  shift 2
  for i in $(seq "$runs"); do
    rm -rf "$work/app" && mkdir "$work/app" && echo '{"private":true}' > "$work/app/package.json"
    local start=$(date +%s%N)
    (cd "$work/app" && npm install --prefer-offline --no-audit --no-fund --loglevel=error "$@" "$tarball" > /dev/null)
    local ms=$((($(date +%s%N) - start) / 1000000))
    (cd "$work/app" && node -e "require('butter').getpid()")
    echo "$label: run $i: $ms ms ($(ls "$work/app/node_modules/butter/build" 2>/dev/null | grep -q Release && echo compiled || echo prebuild))"
  done
}

echo "tarball: $(stat -c %s "$work/$with") bytes with prebuilds, $(stat -c %s "$work/bare/$bare") without"
echo "unpacked: $(tar xzf "$work/$with" -O | wc -c) bytes in $(tar tzf "$work/$with" | wc -l) files"
install "prebuild, --ignore-scripts" "$work/$with" --ignore-scripts
install "prebuild, scripts run" "$work/$with"
install "no prebuild, source build" "$work/bare/$bare"
