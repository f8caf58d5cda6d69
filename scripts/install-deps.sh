#!/usr/bin/env bash
# Installs what building and testing multiprocessing-cpp needs, from Debian's
# packages (Debian 12 or newer; Ubuntu works too). Does nothing when all is there.
#   scripts/install-deps.sh            # library + tests + examples
#   scripts/install-deps.sh --dev      # also clang, clang-format (CI's lint and fuzz jobs)
set -euo pipefail
packages=(cmake ninja-build g++ libboost-dev libcereal-dev libssl-dev catch2 pkg-config python3)
if [ "${1:-}" = "--dev" ]; then
    packages+=(clang clang-format libclang-rt-dev)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: run as root or install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
