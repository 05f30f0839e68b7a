#!/usr/bin/env bash
# Builds the addons the package ships prebuilt, one per platform and C library,
# where node-gyp-build (the loader, src/core/native.ts) looks for them:
#   prebuilds/linux-{x64,arm64}/butter.napi.{glibc,musl}.node
# Node-API makes each valid for every Node version (and Bun, Deno).
#
#   scripts/prebuild.sh --toolchains    first installs the cross toolchains (Debian packages; root)
#   scripts/prebuild.sh                 builds all four
#
# glibc builds link against Debian 12's glibc (2.36): the addon then needs
# glibc 2.34 (pthread_create, dlsym moved into libc there); an older glibc gets
# a source build at install. musl builds compile against musl's headers
# (musl-dev, for arm64 unpacked from Debian's musl:arm64 into .sysroots/).
set -euo pipefail
cd "$(dirname "$0")/.."

sysroot=.sysroots/aarch64-linux-musl
if [ "${1:-}" = --toolchains ]; then
  dpkg --add-architecture arm64
  apt-get update
  # qemu-user and the arm64 libstdc++: test/prebuilds.test.mjs runs an arm64 Node with them.
  apt-get install -y --no-install-recommends gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross musl-dev \
    qemu-user libstdc++6-arm64-cross
  # musl for arm64 only as files for this build, not installed on the machine.
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download musl:arm64 musl-dev:arm64)
  rm -rf "$sysroot" && mkdir -p "$sysroot"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
  rm -rf "$tmp"
fi

# The sources and flags binding.gyp gives node-gyp, so both builds compile the same.
sources=($(node -p "JSON.parse(require('fs').readFileSync('binding.gyp', 'utf8')).targets[0].sources.join(' ')"))
defines=(-DNAPI_VERSION=8 -D_GNU_SOURCE)
cflags=(-std=gnu11 -O2 -fPIC -Wall -Wextra -Wno-unused-parameter -fvisibility=hidden)
headers=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
[ -f "$headers/node_api.h" ] || { echo "prebuild.sh: no node_api.h in $headers (Debian: nodejs)" >&2; exit 1; }

build() { # out cc [extra flags...]
  local out=$1 cc=$2
  shift 2
  mkdir -p "$(dirname "$out")"
  "$cc" "${cflags[@]}" "${defines[@]}" -I"$headers" -shared -Wl,-s -o "$out" "${sources[@]}" "$@"
  echo "$out: $(stat -c %s "$out") bytes"
}

musl() { # out cc musl-include musl-lib linux-uapi-include asm-include [flags...]
  local out=$1 cc=$2 uapi=.sysroots/uapi-${1//\//-}
  # musl's headers, then the kernel's UAPI ones (linux/, asm-generic/, asm/) alone, not glibc's.
  rm -rf "$uapi" && mkdir -p "$uapi"
  ln -s "$5/linux" "$5/asm-generic" "$uapi/" && ln -s "$6" "$uapi/asm"
  build "$out" "$cc" -nostdinc -isystem "$3" -isystem "$uapi" -isystem "$("$cc" -print-file-name=include)" -nostdlib -L"$4" -lc "${@:7}"
}

build prebuilds/linux-x64/butter.napi.glibc.node gcc
build prebuilds/linux-arm64/butter.napi.glibc.node aarch64-linux-gnu-gcc
musl prebuilds/linux-x64/butter.napi.musl.node gcc /usr/include/x86_64-linux-musl /usr/lib/x86_64-linux-musl \
  /usr/include /usr/include/x86_64-linux-gnu/asm
musl prebuilds/linux-arm64/butter.napi.musl.node aarch64-linux-gnu-gcc "$sysroot/usr/include/aarch64-linux-musl" "$sysroot/lib/aarch64-linux-musl" \
  /usr/aarch64-linux-gnu/include /usr/aarch64-linux-gnu/include/asm \
  -mno-outline-atomics # gcc's helpers for them are in libgcc and call glibc's __getauxval
