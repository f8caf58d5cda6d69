#!/usr/bin/env bash
# Quick start, part 2: install what is missing, build everything, and run the
# whole test suite (unit tests, seed tests, examples, packaging checks).
#   BUILD_DIR=build-asan SANITIZE="address;undefined" scripts/run-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DMULTIPROCESSING_WARNINGS_AS_ERRORS=ON \
    "-DMULTIPROCESSING_SANITIZE=${SANITIZE:-}" ${CMAKE_ARGS:-}
cmake --build "$build"
ctest --test-dir "$build" -j2 --output-on-failure ${CTEST_ARGS:-}
