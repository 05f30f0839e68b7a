#!/usr/bin/env bash
# Installs Debian's reference tools that benchmarks and comparison tests run
# beside Butter (fio, bubblewrap, libseccomp's tools, inotify-tools, ...):
#   scripts/tools.sh PACKAGE...
# Packages already installed are left alone; needs root and Debian's mirror.
# Prints nothing on success; exits non-zero when a package could not be installed.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null 2>&1 ||
  { apt-get update -qq > /dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null; }
