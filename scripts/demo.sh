#!/usr/bin/env bash
# The main job, end to end, on a throwaway store inside the build tree: devices added,
# a profile added, a transfer planned and done, a list, a backup QR written and shown.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/demo -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
exec bash examples/demo.sh build/demo
