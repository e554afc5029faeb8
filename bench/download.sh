#!/usr/bin/env bash
# bench/download.sh [RUNS [BUILD_DIR]] - time full SGP.22 downloads against the local test
# SM-DP+ and split each one's wall time between the SM-DP+, the eUICC and esimctl itself.
#
# Setup (not timed), as tests/smdp/README.md describes: a NIST test PKI from mkpki.py, the
# Python test SM-DP+ (smdpp.py) on 127.0.0.1 with one order per run, and for each run a
# fresh software eUICC (esimctl euicc create-soft) behind a fresh device.  Then per run:
#
#   esimctl --json add LPA:1$HOST:PORT$BENCH-n --device dN
#
# with ESIMCTL_TIMING=1, which makes the LPA print the monotonic clock at each step of the
# download (src/rsp/lpa.c).  The split:
#   SM-DP+   the "ms" of the run's requests in the server's --log (its own handling time);
#   eUICC    the LPA steps that are ES10 calls to the software eUICC (reading it,
#            AuthenticateServer, PrepareDownload, LoadBoundProfilePackage, removing the
#            install notification), state file writes (fsync) included;
#   esimctl  the rest of the wall time: process start, store load and commit ("local"),
#            and the ES9+ steps minus the server's handling time ("transport": the TLS
#            handshake on both sides, HTTP framing and parsing on both sides,
#            JSON/base64, loopback).
# Requests and TLS handshakes are counted three ways: esimctl's own "download" object,
# the server's log (request and tls-handshake records), and connect(2) calls seen by
# strace in one extra (untimed) run, which also shows which process loads libcurl and
# libssl.
#
# Prints one JSON object on stdout; progress on stderr.  Needs /usr/bin/python3 with
# python3-cryptography (scripts/deps.sh), jq, and strace for the extra run (optional).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-10}
BUILD=${2:-build/bench}
ESIMCTL=$BUILD/esimctl
PY=/usr/bin/python3
HOST=testsmdpplus1.example.com
[ -x "$ESIMCTL" ] && [ -f "$BUILD/esimctl-rsp.so" ] || {
	echo "download.sh: build $ESIMCTL and esimctl-rsp.so first (bench/run.sh does)" >&2
	exit 1
}
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 30 ] || { echo "download.sh: RUNS must be 1 to 30" >&2; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/esimctl-bench-dl.XXXXXX")
SRV_PID=
cleanup() {
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Only 127.0.0.1, and only what this script sets.
unset ESIMCTL_RESOLVE ESIMCTL_TRUST_SYSTEM_CA ESIMCTL_TIMING https_proxy HTTPS_PROXY http_proxy
unset HTTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY ESIMCTL_NOW
export ESIMCTL_STORE=$W/store.json ESIMCTL_CARRIERS=$W/carriers.json HOME=$W/home
mkdir -p "$HOME"

echo "download: test PKI and SM-DP+" >&2
. bench/pki-lib.sh

# One order per run (and one for the extra run); ICCIDs with their Luhn digit.
"$PY" - "$RUNS" >"$W/orders.json" <<'EOF'
import json, sys
def luhn(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)
n = int(sys.argv[1]) + 1
print(json.dumps([{"matching_id": "BENCH-%d" % i, "iccid": luhn("894944999999991%03d" % i),
                   "spn": "Bench Operator", "name": "Bench Profile"} for i in range(n)]))
EOF
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" tests/smdp/smdpp.py --pki "$W/pki" --port "$PORT" --profiles "$W/orders.json" \
	--log "$W/smdp.jsonl" --notify-address "$HOST:$PORT" >"$W/srv.out" 2>"$W/srv.err" &
SRV_PID=$!
for _ in $(seq 150); do
	grep -q '^READY ' "$W/srv.out" && break
	kill -0 "$SRV_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q '^READY ' "$W/srv.out" || {
	tail -5 "$W/srv.err" >&2
	echo "download.sh: the test SM-DP+ did not start" >&2
	exit 1
}
export ESIMCTL_RESOLVE=$HOST:$PORT:127.0.0.1

# dN with its own software eUICC.
device() {
	"$ESIMCTL" euicc create-soft "$W/$1.json" --eid "$EID" --cert "$(pki .euicc.cert_der)" \
		--key "$(pki .euicc.key_pem)" --eum "$(pki .eum.cert_der)" --ci "$CI" >/dev/null
	"$ESIMCTL" device add "$1" --kind phone --euicc "soft:$W/$1.json" >/dev/null
}

for i in $(seq 0 "$RUNS"); do
	device "d$i"
done

# The extra run, under strace: connections, helper processes, libraries per process.
TRACE=none
if command -v strace >/dev/null 2>&1; then
	echo "download: one run under strace" >&2
	strace -f -qq -e trace=execve,connect,openat -o "$W/strace.log" \
		"$ESIMCTL" --json add "LPA:1\$$HOST:$PORT\$BENCH-0" --device d0 >"$W/trace.json" 2>"$W/trace.err"
	TRACE=$W/strace.log
fi

echo "download: $RUNS timed runs" >&2
"$PY" - "$ESIMCTL" "$HOST:$PORT" "$RUNS" "$W/smdp.jsonl" "$TRACE" <<'EOF'
import json, os, re, statistics, subprocess, sys, time

esimctl, addr, runs, log, trace = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
EUICC_STEPS = {"reading the eUICC", "authenticating the SM-DP+ on the eUICC",
               "preparing the download", "installing the profile",
               "removing the install notification from the eUICC"}
NET_STEPS = {"contacting the SM-DP+", "authenticating the eUICC on the SM-DP+",
             "downloading the bound profile package", "sending the install notification"}

def log_records():
    with open(log) as f:
        return [json.loads(line) for line in f if line.strip()]

def settle(seen, want):
    # The server writes a request's record after answering: wait for the run's records.
    for _ in range(100):
        recs = [r for r in log_records() if r.get("event") == "request"]
        if len(recs) >= seen + want:
            return recs[seen:]
        time.sleep(0.03)
    return [r for r in log_records() if r.get("event") == "request"][seen:]

seen = len([r for r in log_records() if r.get("event") == "request"])
def handshakes():
    return len([r for r in log_records() if r.get("event") == "tls-handshake"])
hs_seen = handshakes()
results = []
env = dict(os.environ, ESIMCTL_TIMING="1")
for i in range(1, runs + 1):
    cmd = [esimctl, "--json", "add", "LPA:1$%s$BENCH-%d" % (addr, i), "--device", "d%d" % i]
    t0 = time.monotonic() * 1e3
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    t1 = time.monotonic() * 1e3
    out = json.loads(p.stdout)
    if p.returncode != 0 or not out.get("ok"):
        sys.exit("download.sh: run %d failed (exit %d): %s" % (i, p.returncode, p.stderr.strip()))
    marks = [(float(m.group(1)), m.group(2)) for m in
             re.finditer(r"^esimctl: timing: ([0-9.]+) (.*)$", p.stderr, re.M)]
    reqs = settle(seen, 4)
    seen += len(reqs)
    hs_now = handshakes()
    server_handshakes, hs_seen = hs_now - hs_seen, hs_now
    if not marks:
        # an esimctl without ESIMCTL_TIMING: only the whole is known
        marks = [(t0, "start"), (t1, "end")]
    euicc = net = 0.0
    for (t, name), (t_next, _) in zip(marks, marks[1:]):
        if name in EUICC_STEPS:
            euicc += t_next - t
        elif name in NET_STEPS:
            net += t_next - t
    wall = t1 - t0
    smdp = float(sum(r.get("ms", 0) for r in reqs))
    results.append({
        "wall_ms": wall, "smdp_ms": smdp, "euicc_ms": euicc, "esimctl_ms": wall - smdp - euicc,
        "transport_ms": net - smdp, "before_ms": marks[0][0] - t0, "after_ms": t1 - marks[-1][0],
        "requests": out["download"]["requests"], "tls_connections": out["download"]["tls_connections"],
        "server_requests": len(reqs), "server_handshakes": server_handshakes,
        "functions": [r.get("function") for r in reqs],
        "installed": out["download"]["installed"],
        "notification_sent": out["download"]["notification_sent"],
    })

summary = {"runs": runs}
for k in ("wall_ms", "smdp_ms", "euicc_ms", "esimctl_ms", "transport_ms", "before_ms", "after_ms"):
    vals = [r[k] for r in results]
    summary[k] = round(statistics.median(vals), 2)
    summary[k.replace("_ms", "_min_ms")] = round(min(vals), 2)
    summary[k.replace("_ms", "_max_ms")] = round(max(vals), 2)
for k in ("requests", "tls_connections", "server_requests", "server_handshakes"):
    summary[k] = sorted({r[k] for r in results})
summary["functions"] = results[0]["functions"]
summary["all_installed"] = all(r["installed"] and r["notification_sent"] for r in results)

if trace != "none":
    procs, connects, libs = {}, 0, {}
    for line in open(trace):
        m = re.match(r"(\d+)\s+(\w+)\((.*)", line)
        if not m:
            continue
        pid, call, args = m.groups()
        if call == "execve" and "= 0" in line:
            procs[pid] = os.path.basename(args.split('"')[1])
        elif call == "connect" and ("htons(%s)" % addr.split(":")[1]) in args:
            connects += 1
        elif call == "openat" and ".so" in args and "ENOENT" not in line:
            name = os.path.basename(args.split('"')[1])
            libs.setdefault(pid, set()).add(name.split(".so")[0])
    summary["connects"] = connects
    summary["processes"] = sorted(procs.values())
    summary["libraries"] = {procs.get(p, p): sorted(v) for p, v in libs.items()}
print(json.dumps(summary, indent=1))
EOF
