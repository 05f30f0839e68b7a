#!/usr/bin/env bash
# Builds what the package ships prebuilt, one per platform and C library: the
# addon, where node-gyp-build (the loader, src/core/native.ts) looks for it,
# and butter-helper beside it (src/core/helper.ts finds it there):
#   prebuilds/linux-{x64,arm64}/butter.napi.{glibc,musl}.node
#   prebuilds/linux-{x64,arm64}/butter-helper.{glibc,musl}
# Node-API makes each addon valid for every Node version (and Bun, Deno).
#
#   scripts/prebuild.sh --toolchains    first installs the cross toolchains (Debian packages; root)
#   scripts/prebuild.sh [TARGET...]     builds those (linux-x64-glibc, linux-x64-musl,
#                                       linux-arm64-glibc, linux-arm64-musl), by default all four
#
# glibc builds link against Debian 12's glibc (2.36): the addon then needs
# glibc 2.34 (pthread_create, dlsym moved into libc there); an older glibc gets
# a source build at install. musl builds compile against musl's headers
# (musl-dev, for arm64 unpacked from Debian's musl:arm64 into .sysroots/).
set -euo pipefail
cd "$(dirname "$0")/.."

sysroot=.sysroots/aarch64-linux-musl
if [ "${1:-}" = --toolchains ]; then
  shift
  # qemu-user and the arm64 libstdc++: test/prebuilds.test.mjs runs an arm64 Node with them.
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }
  scripts/tools.sh gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross musl-dev qemu-user libstdc++6-arm64-cross
  # musl for arm64 only as files for this build, not installed on the machine.
  if [ ! -f "$sysroot/lib/aarch64-linux-musl/libc.so" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download musl:arm64 musl-dev:arm64)
    rm -rf "$sysroot" && mkdir -p "$sysroot"
    for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
    rm -rf "$tmp"
  fi
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(linux-x64-glibc linux-arm64-glibc linux-x64-musl linux-arm64-musl)

# The sources and flags binding.gyp gives node-gyp, so both builds compile the same
# (a <!@(command) entry expands to the command's words, as in gyp).
gyp() {
  node -p "JSON.parse(require('fs').readFileSync('binding.gyp', 'utf8')).targets[$1].sources
    .map((s) => s.replace(/^<!@\\((.*)\\)$/, (_, cmd) => require('child_process').execSync(cmd, { encoding: 'utf8' }).trim())).join(' ')"
}
addon_sources=($(gyp 0))
helper_sources=($(gyp 1))
defines=(-DNAPI_VERSION=8 -D_GNU_SOURCE)
cflags=(-std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter)
headers=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
[ -f "$headers/node_api.h" ] || { echo "prebuild.sh: no node_api.h in $headers (Debian: nodejs)" >&2; exit 1; }

build() { # dir libc cc [extra flags...]: the addon and the helper
  local dir=$1 libc=$2 cc=$3
  shift 3
  mkdir -p "$dir"
  "$cc" "${cflags[@]}" -fPIC -fvisibility=hidden "${defines[@]}" -I"$headers" -shared -Wl,-s \
    -o "$dir/butter.napi.$libc.node" "${addon_sources[@]}" "$@"
  "$cc" "${cflags[@]}" -D_GNU_SOURCE -Wl,-s -o "$dir/butter-helper.$libc" "${helper_sources[@]}" "$@" "${program[@]}"
  echo "$dir: $(stat -c '%n %s bytes' "$dir/butter.napi.$libc.node" "$dir/butter-helper.$libc" | paste -sd ' ')"
}

musl() { # dir cc musl-include musl-lib start-files linux-uapi-include asm-include loader [flags...]
  local dir=$1 cc=$2 lib=$4 crt=$5 uapi=.sysroots/uapi-${1//\//-}
  # musl's headers, then the kernel's UAPI ones (linux/, asm-generic/, asm/) alone, not glibc's.
  rm -rf "$uapi" && mkdir -p "$uapi"
  ln -s "$6/linux" "$6/asm-generic" "$uapi/" && ln -s "$7" "$uapi/asm"
  # -nostdlib drops the C library's start files too: the helper, a program, gets musl's.
  local program=("$crt/Scrt1.o" "$crt/crti.o" "$("$cc" -print-libgcc-file-name)" "$crt/crtn.o" -Wl,-dynamic-linker,"$8")
  build "$dir" musl "$cc" -nostdinc -isystem "$3" -isystem "$uapi" -isystem "$("$cc" -print-file-name=include)" -nostdlib -L"$lib" -lc "${@:9}"
}

program=() # what the helper links beyond its sources (musl's start files)
for target in "${targets[@]}"; do
  case "$target" in
    linux-x64-glibc) build prebuilds/linux-x64 glibc gcc ;;
    linux-arm64-glibc) build prebuilds/linux-arm64 glibc aarch64-linux-gnu-gcc ;;
    linux-x64-musl) musl prebuilds/linux-x64 gcc /usr/include/x86_64-linux-musl /usr/lib/x86_64-linux-musl /usr/lib/x86_64-linux-musl \
      /usr/include /usr/include/x86_64-linux-gnu/asm /lib/ld-musl-x86_64.so.1 ;;
    linux-arm64-musl) musl prebuilds/linux-arm64 aarch64-linux-gnu-gcc "$sysroot/usr/include/aarch64-linux-musl" "$sysroot/lib/aarch64-linux-musl" \
      "$sysroot/usr/lib/aarch64-linux-musl" \
      /usr/aarch64-linux-gnu/include /usr/aarch64-linux-gnu/include/asm /lib/ld-musl-aarch64.so.1 \
      -mno-outline-atomics ;; # gcc's helpers for them are in libgcc and call glibc's __getauxval
    *) echo "prebuild.sh: unknown target $target" >&2; exit 2 ;;
  esac
done
