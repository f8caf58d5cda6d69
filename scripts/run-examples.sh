#!/usr/bin/env bash
# Quick start, part 1: install what is missing, build the tutorial examples,
# and run every one of them (CTest checks each one's output).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug
cmake --build "$build"
ctest --test-dir "$build" -L example -j2 --output-on-failure
