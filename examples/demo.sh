#!/usr/bin/env bash
# A guided run of esimctl on a throwaway store: BUILD_DIR/demo-run/store.json.
# Usage: examples/demo.sh BUILD_DIR   (scripts/demo.sh builds and calls this)
set -euo pipefail
build=$(cd "${1:-build/demo}" && pwd)
esimctl="$build/esimctl"
run="$build/demo-run"
rm -rf "$run"
mkdir -p "$run"
export ESIMCTL_STORE="$run/store.json" ESIMCTL_CARRIERS="$run/carriers.json"
export ESIMCTL_NOW=2026-11-21T08:00:00Z

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$esimctl" device add phone --kind phone --platform ios --primary
step "$esimctl" device add laptop --kind laptop --platform macos
step "$esimctl" device add watch --kind watch
step "$esimctl" add 'LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7' --carrier 'AT&T' --device phone --nickname travel
step "$esimctl" add 'LPA:1$smdp.example.net$K2-AB12-CD34' --carrier T-Mobile --device phone --nickname home --data-only
step "$esimctl" transfer travel --to laptop --dry-run
step "$esimctl" transfer travel --to laptop
step "$esimctl" transfer home --to watch
step "$esimctl" list
echo
echo "# an hour later the transfer is complete; a second move is inside AT&T's 24 h cooldown:"
export ESIMCTL_NOW=2026-11-21T09:00:00Z
step "$esimctl" transfer travel --to phone --dry-run || echo "(exit status $?: refused by carrier policy)"
step "$esimctl" transfer travel --to phone --dry-run --at 2026-11-22T08:00:00Z
step "$esimctl" qr travel --png "$run/travel.png"
step "$esimctl" qr travel
echo
echo "store: $ESIMCTL_STORE; backup QR: $run/travel.png"
