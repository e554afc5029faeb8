#!/usr/bin/env bash
# bench/run.sh [--quick] - measure what users feel, next to what they would otherwise run.
#
# Builds a Release esimctl in build/bench, generates stores of 20, 1,000, 10,000 and
# 100,000 profiles (bench/genstore.c: devices, bindings, history and notifications in
# proportion), and measures with hyperfine (-N, warm-up runs, JSON export) and
# /usr/bin/time -v, each case and its reference in the same run:
#
#   startup       esimctl list (20 profiles)  vs  /bin/true                      target <= 3x
#   list --json   esimctl list --json         vs  jq -c . on the same store file  <= 0.2x at 1,000
#   list          esimctl list                vs  jq -c . on the same store file  <= 0.2x at 1,000
#   transfer      one durable transfer        vs  esimctl list --json, same store  <= 2x at 1,000
#
# The targets are for the sizes people have (a person: tens of profiles, a family or a
# small team: hundreds).  The 10,000 and 100,000 rows stay in the scaling table, to show
# linear growth, without a target (issue 10, "Performance").
#   qr            esimctl qr --code C --png F vs  qrencode -o F C (same level, size, margin)
#   download      bench/download.sh: a full SGP.22 download with the install notification
#                 against the local test SM-DP+, split between SM-DP+, eUICC and esimctl
#   APDUs         bench/apdus.sh: APDUs and bytes each way per download and eUICC backend,
#                 STORE DATA blocks of 120 (before) and automatic (after); counts, from a
#                 build with the test modem (BENCH_APDU_BUILD, default build/bench-apdu)
#   peak RSS      of every case, against the store file's size
#
# Every case runs in ROUNDS short rounds (the cases take turns, in alternating order), and
# a median pools all runs of all rounds, so a load change on the machine hits both sides of
# a ratio alike.  Writes
# docs/performance.md (text below its "kept" marker is carried over from the old file).
#
#   --quick   20 and 1,000 profiles, one round of a few runs, report to a temporary file
#             (what CI runs: it keeps the bench working, it asserts no timings)
# BENCH_BUILD=DIR  measure an existing build directory instead of building build/bench
#                  (e.g. an older commit's, for before/after figures)
# BENCH_OUT=FILE   write the full report there instead of docs/performance.md
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
case ${1:-} in
--quick) QUICK=1 ;;
"") ;;
*) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac
T_START=$(date +%s)

scripts/deps.sh --bench
PY=/usr/bin/python3
jobs=$(nproc 2>/dev/null || echo 2)
if [ -n "${BENCH_BUILD:-}" ]; then
	BUILD=$BENCH_BUILD
else
	BUILD=build/bench
	echo "== Release build in $BUILD ==" >&2
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DESIMCTL_TESTS=OFF >/dev/null
	cmake --build "$BUILD" -j "$jobs" >/dev/null
fi
ESIMCTL=$(cd "$BUILD" && pwd)/esimctl
W=$(mktemp -d "${TMPDIR:-/tmp}/esimctl-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/hf" "$W/rss" "$W/home"
if [ "$QUICK" = 1 ]; then
	SIZES=(20 1000)
	OUT=$(mktemp "${TMPDIR:-/tmp}/esimctl-performance.XXXXXX.md")
	DL_RUNS=2
else
	SIZES=(20 1000 10000 100000)
	OUT=${BENCH_OUT:-docs/performance.md}
	DL_RUNS=15
fi

# A fixed clock and no user configuration: every run sees the same stores and policies.
unset ESIMCTL_STORE XDG_DATA_HOME XDG_CONFIG_HOME ESIMCTL_CA_FILE NO_COLOR ESIMCTL_TIMING
export ESIMCTL_NOW=2026-11-21T10:00:00Z ESIMCTL_CARRIERS=$W/no-carriers.json HOME=$W/home

# rounds/runs/warm-up for one case: small commands get many runs, 100,000 profiles few.
plan() {
	if [ "$QUICK" = 1 ]; then
		ROUNDS=1 RUNS=3 WARM=1
		if [ "$1" = tiny ]; then RUNS=20; fi
	else
		case $1 in
		tiny) ROUNDS=10 RUNS=30 WARM=10 ;;
		20 | 1000) ROUNDS=6 RUNS=10 WARM=3 ;;
		10000) ROUNDS=6 RUNS=4 WARM=1 ;;
		*) ROUNDS=4 RUNS=2 WARM=1 ;;
		esac
	fi
}

# hf CASE [hyperfine options] -- COMMAND...: one round of a case (several commands).
# hyperfine runs one command's runs in a block, so the rounds are short and every other
# round takes the commands in reverse order: a load change hits all of them alike.
hf() {
	local name=$1 opts=() cmds=() i
	shift
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	if ((ROUND % 2)); then
		cmds=("$@")
	else
		for ((i = $#; i >= 1; i--)); do
			cmds+=("${!i}")
		done
	fi
	hyperfine -N --style none --warmup "$WARM" --runs "$RUNS" \
		--export-json "$W/hf/$name.$ROUND.json" ${opts[@]+"${opts[@]}"} -- "${cmds[@]}" >/dev/null
}

# rss CASE SIZE [--copy] COMMAND...: peak RSS (KiB) of one run, median of three.
rss() {
	local name=$1 size=$2 i
	shift 2
	: >"$W/rss/$name.$size"
	for i in 1 2 3; do
		if [ "$1" = --copy ]; then
			cp -p "$W/s$size.json" "$W/t$size.json"
			/usr/bin/time -v -o "$W/time.txt" "${@:2}" >/dev/null 2>&1
		else
			/usr/bin/time -v -o "$W/time.txt" "$@" >/dev/null 2>&1
		fi
		sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$W/time.txt" >>"$W/rss/$name.$size"
	done
}

echo "== stores ==" >&2
"${CC:-cc}" -O2 -o "$W/genstore" bench/genstore.c
for n in "${SIZES[@]}"; do
	"$W/genstore" "$n" "$W/s$n.json"
	# It must load: esimctl checks every field.
	"$ESIMCTL" --store "$W/s$n.json" list --json >/dev/null
	echo "$n $(stat -c %s "$W/s$n.json")" >>"$W/sizes"
	echo "  $n profiles: $(stat -c %s "$W/s$n.json") bytes, valid" >&2
done
# The transfer: profile 0 (Verizon, sequential, no cooldown) from dev-00001 to dev-00002.
PROFILE=$(sed -n '/^"profiles"/{n;p;q}' "$W/s20.json" | sed 's/^{"id":"\([0-9a-f]*\)".*/\1/')
for n in "${SIZES[@]}"; do
	cp -p "$W/s$n.json" "$W/t$n.json"
	"$ESIMCTL" --store "$W/t$n.json" --json transfer "$PROFILE" --to dev-00002 >"$W/transfer.out"
	jq -e '.applied == true and .plan.action == "move"' "$W/transfer.out" >/dev/null
	"$ESIMCTL" --store "$W/t$n.json" list --json >/dev/null
done
CODE='LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7'

echo "== offline commands: no libcurl, no TLS, no SGP.22 module ==" >&2
ldd "$ESIMCTL" >"$W/ldd.txt"
: >"$W/offline.txt"
if command -v strace >/dev/null 2>&1; then
	cp -p "$W/s20.json" "$W/o.json"
	while read -r label args; do
		# shellcheck disable=SC2086
		strace -f -qq -e trace=execve,openat -o "$W/st.txt" "$ESIMCTL" --store "$W/o.json" $args \
			>/dev/null 2>&1 || true
		printf '%s\t%s\t%s\n' "$label" \
			"$(grep -cE 'lib(curl|ssl|gnutls)[^"]*\.so' "$W/st.txt" || true)" \
			"$(grep -c 'esimctl-rsp\.so' "$W/st.txt" || true)" >>"$W/offline.txt"
	done <<EOF
list list
transfer transfer $PROFILE --to dev-00002
release release $PROFILE --device dev-00002
qr qr $PROFILE --png $W/o.png
device device list
carriers carriers list
EOF
fi

echo "== timings ==" >&2
plan tiny
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	hf startup -- /bin/true "$ESIMCTL --store $W/s20.json list" "$ESIMCTL --version"
	hf qr -- "qrencode -l M -s 8 -m 4 -o $W/q-ref.png $CODE" \
		"$ESIMCTL qr --code $CODE --level M --size 8 --margin 4 --png $W/q.png"
done
for n in "${SIZES[@]}"; do
	plan "$n"
	echo "  $n profiles: $ROUNDS x $RUNS runs" >&2
	for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
		hf "list.$n" -- "jq -c . $W/s$n.json" "$ESIMCTL --store $W/s$n.json list --json" \
			"$ESIMCTL --store $W/s$n.json list"
		# The old store is made durable first, as a previous esimctl leaves it.
		hf "transfer.$n" --prepare "sh -c 'cp -p $W/s$n.json $W/t$n.json && sync $W/t$n.json'" -- \
			"$ESIMCTL --store $W/t$n.json transfer $PROFILE --to dev-00002" \
			"$ESIMCTL --store $W/s$n.json list --json"
	done
	rss jq "$n" jq -c . "$W/s$n.json"
	rss json "$n" "$ESIMCTL" --store "$W/s$n.json" list --json
	rss human "$n" "$ESIMCTL" --store "$W/s$n.json" list
	rss transfer "$n" --copy "$ESIMCTL" --store "$W/t$n.json" transfer "$PROFILE" --to dev-00002
done
rss qr 0 "$ESIMCTL" qr --code "$CODE" --png "$W/q.png"
rss qrencode 0 qrencode -l M -s 8 -m 4 -o "$W/q-ref.png" "$CODE"

echo "== download ==" >&2
bench/download.sh "$DL_RUNS" "$BUILD" >"$W/download.json"

echo "== APDUs per download ==" >&2
# Counts, not times, so any build with tests/atmodem will do (build/bench has no tests).
APDU_BUILD=${BENCH_APDU_BUILD:-build/bench-apdu}
if [ -z "${BENCH_APDU_BUILD:-}" ]; then
	cmake -S . -B "$APDU_BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$APDU_BUILD" -j "$jobs" --target esimctl esimctl-rsp atmodem pcsc_hold >/dev/null
fi
bench/apdus.sh --markdown "$APDU_BUILD" >"$W/apdus.md"

echo "== report ==" >&2
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "cores=$jobs"
	echo "kernel=$(uname -r)"
	echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "compiler=$("${CC:-cc}" --version | head -1)"
	echo "hyperfine=$(hyperfine --version)"
	echo "jq=$(jq --version)"
	echo "qrencode=$(qrencode --version 2>&1 | head -1)"
	echo "quick=$QUICK"
	echo "elapsed=$(($(date +%s) - T_START))"
} >"$W/env.txt"
"$PY" - "$W" "$OUT" <<'EOF'
import glob, json, math, os, re, statistics, sys

W, OUT = sys.argv[1], sys.argv[2]
env = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(W, "env.txt")))
sizes = {int(a): int(b) for a, b in (l.split() for l in open(os.path.join(W, "sizes")))}
KEEP = "<!-- bench/run.sh keeps everything below this line -->"

def pool(case):
    """command -> {"times": [...], "cpu": [...]} over the rounds of a case."""
    res = {}
    for path in sorted(glob.glob(os.path.join(W, "hf", case + ".*.json"))):
        for r in json.load(open(path))["results"]:
            c = res.setdefault(r["command"], {"times": [], "cpu": []})
            c["times"] += r["times"]
            c["cpu"].append(r["user"] + r["system"])
    return res

def find(res, pattern):
    """The command matching pattern."""
    for cmd, v in res.items():
        if re.search(pattern, cmd):
            return v
    raise KeyError(pattern)

def med(v):
    return statistics.median(v["times"]) * 1e3

def cpu(v):
    return statistics.mean(v["cpu"]) * 1e3

def iqr(v):
    q = statistics.quantiles(v["times"], n=4) if len(v["times"]) > 1 else [v["times"][0]] * 3
    return "%s-%s" % (ms(q[0] * 1e3), ms(q[2] * 1e3))

def ms(x):
    return "%.2f" % x if x < 10 else "%.1f" % x if x < 100 else "%.0f" % x

def rss(name, size):
    path = os.path.join(W, "rss", "%s.%d" % (name, size))
    vals = [int(x) for x in open(path).read().split()] if os.path.exists(path) else []
    return statistics.median(vals) / 1024 if vals else float("nan")

def verdict(ratio, target):
    return "yes" if ratio <= target else "**no**"

rows, notes = [], []
TARGET_N = 1000  # the targets are at 1,000 profiles; bigger stores carry none
st = pool("startup")
true, lst = find(st, r"^/bin/true$"), find(st, r"list$")
ver = find(st, r"--version$")
r = med(lst) / med(true)
rows.append(("startup: `esimctl list`, 20 profiles", ms(med(lst)), "`/bin/true` " + ms(med(true)),
             "%.2fx" % r, "<= 3x", verdict(r, 3)))

lists = {n: pool("list.%d" % n) for n in sizes}
trans = {n: pool("transfer.%d" % n) for n in sizes}
if TARGET_N in sizes:
    res = lists[TARGET_N]
    jq, js, hu = find(res, r"^jq "), find(res, r"list --json$"), find(res, r"list$")
    for label, v in (("`list --json`", js), ("`list`", hu)):
        r = med(v) / med(jq)
        rows.append(("%s vs `jq -c .`, 1,000 profiles" % label, ms(med(v)), "jq " + ms(med(jq)),
                     "%.3fx" % r, "<= 0.2x", verdict(r, 0.2)))
    res = trans[TARGET_N]
    tr, js = find(res, r"transfer"), find(res, r"list --json$")
    r = med(tr) / med(js)
    rows.append(("one `transfer` vs `list --json`, 1,000 profiles", ms(med(tr)),
                 "--json " + ms(med(js)), "%.2fx" % r, "<= 2x", verdict(r, 2)))
qr = pool("qr")
q, qe = find(qr, r" qr --code "), find(qr, r"^qrencode")
r = med(q) / med(qe)
rows.append(("`qr --png` vs `qrencode -o`", ms(med(q)), "qrencode " + ms(med(qe)), "%.2fx" % r,
             "<= 1.2x", verdict(r, 1.2)))
dl = json.load(open(os.path.join(W, "download.json")))
ok = dl["requests"] == [4] and dl["tls_connections"] == [1] and dl["server_requests"] == [4]
rows.append(("download + install notification: HTTP requests / TLS handshakes",
             "%s / %s" % (",".join(map(str, dl["requests"])), ",".join(map(str, dl["tls_connections"]))),
             "server saw %s requests, %s connect()" % (",".join(map(str, dl["server_requests"])),
                                                       dl.get("connects", "?")),
             "-", "4 / 1", "yes" if ok else "**no**"))
out = []
w = out.append
w("# esimctl performance\n")
w("Written by `bench/run.sh`%s on %s. Do not edit above the marker at the end; "
  "run the script again.\n" % (" --quick" if env["quick"] == "1" else "", env["date"]))
w("Machine: %s, %s cores, Linux %s; load average at the end %s. %s; hyperfine %s, %s, %s.\n"
  % (env["cpu"], env["cores"], env["kernel"], env["load"], env["compiler"],
     env["hyperfine"].split()[-1], env["jq"], env["qrencode"]))
w("Times are wall-clock medians (what a user or a script waits for) over all runs of %s; "
  "each case and its reference ran in the same rounds, taking turns. CPU is user + system "
  "time. Release build (`-O3`), stores from `bench/genstore.c`, fixed clock "
  "(`ESIMCTL_NOW`), built-in carrier table.\n"
  % ("one round (--quick)" if env["quick"] == "1" else "4 to 10 rounds"))
w("## Targets\n")
w("| case | esimctl | reference | ratio | target | met |")
w("| --- | ---: | ---: | ---: | --- | --- |")
for row in rows:
    w("| " + " | ".join(row) + " |")
w("")

w("## Scaling with the store size\n")
w("Median wall time in ms (interquartile range), and per profile. "
  "`transfer` includes parse, policy, the durable write (fsync of file and directory) "
  "and the check of what was written.\n")
w("| profiles | store | `jq -c .` | `list --json` | `list` | `transfer` | list --json per profile | transfer per profile |")
w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for n in sorted(sizes):
    res, tres = lists[n], trans[n]
    jq, js, hu, tr = find(res, r"^jq "), find(res, r"list --json$"), find(res, r"list$"), find(tres, r"transfer")
    w("| %s | %.2f MiB | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %.2f us | %.2f us |"
      % (format(n, ","), sizes[n] / 2**20, ms(med(jq)), iqr(jq), ms(med(js)), iqr(js),
         ms(med(hu)), iqr(hu), ms(med(tr)), iqr(tr), med(js) * 1e3 / n, med(tr) * 1e3 / n))
w("")
ns = sorted(sizes)
if len(ns) >= 2 and ns[-1] >= 10 * ns[-2]:
    a, b = ns[-2], ns[-1]
    w("Growth from %s to %s profiles (x%d): " % (format(a, ","), format(b, ","), b // a) + ", ".join(
        "%s x%.1f (exponent %.2f)" % (label, med(find(src[b], pat)) / med(find(src[a], pat)),
                                      math.log(med(find(src[b], pat)) / med(find(src[a], pat)))
                                      / math.log(b / a))
        for label, src, pat in (("`list --json`", lists, r"list --json$"), ("`list`", lists, r"list$"),
                                ("`transfer`", trans, r"transfer"), ("jq", lists, r"^jq "))) +
      ". An exponent of 1 is linear; a quadratic lookup would show 2. Devices and profiles "
      "are indexed by name and id on load (hash tables in `src/core/model.c`), bindings are "
      "grouped per profile in one pass.\n")
w("CPU (user + system, ms): " + "; ".join(
    "%s profiles: list --json %s, list %s, transfer %s, jq %s" % (
        format(n, ","), ms(cpu(find(lists[n], r"list --json$"))), ms(cpu(find(lists[n], r"list$"))),
        ms(cpu(find(trans[n], r"transfer"))), ms(cpu(find(lists[n], r"^jq "))))
    for n in sorted(sizes)) + ".\n")

w("## Peak RSS\n")
w("Maximum resident set size (`/usr/bin/time -v`, median of 3), MiB, and as a multiple of the store file.\n")
w("| profiles | store | `list` | `list --json` | `transfer` | `jq -c .` |")
w("| ---: | ---: | ---: | ---: | ---: | ---: |")
for n in sorted(sizes):
    m = sizes[n] / 2**20
    w("| %s | %.2f MiB | %.1f (%.1fx) | %.1f (%.1fx) | %.1f (%.1fx) | %.1f (%.1fx) |" % (
        format(n, ","), m, rss("human", n), rss("human", n) / m, rss("json", n), rss("json", n) / m,
        rss("transfer", n), rss("transfer", n) / m, rss("jq", n), rss("jq", n) / m))
w("\n`qr --png`: %.1f MiB, `qrencode -o`: %.1f MiB.\n" % (rss("qr", 0), rss("qrencode", 0)))

w("## Start-up\n")
w("| command | median | CPU |")
w("| --- | ---: | ---: |")
for label, v in (("`/bin/true`", true), ("`esimctl list` (20 profiles)", lst),
                 ("`esimctl --version`", ver)):
    if v:
        w("| %s | %s ms (%s) | %s ms |" % (label, ms(med(v)), iqr(v), ms(cpu(v))))
w("")
ldd = open(os.path.join(W, "ldd.txt")).read()
libs = sorted({l.split()[0].split(".so")[0] for l in ldd.splitlines() if ".so" in l and "=>" in l})
w("esimctl links %s; not libcurl, libssl, libcrypto or any TLS library (`ldd`). Everything "
  "that needs libcurl or libcrypto (the eUICC backends, ES9+ over libcurl, "
  "the LPA procedures and the commands that drive eUICCs) is in `esimctl-rsp.so`, which "
  "esimctl dlopen()s only when a command needs an eUICC (`src/cli/rsp_module.c`): Debian's "
  "libcrypto is linked BIND_NOW, about 3,700 symbol bindings at every load, more than an "
  "offline command's whole run. Profile ids use a small SHA-256 of the binary's own "
  "(`src/core/sha256.c`, tested against NIST vectors and OpenSSL).\n" % ", ".join(libs))
off = [l.rstrip("\n").split("\t") for l in open(os.path.join(W, "offline.txt"))]
if off:
    w("Checked with strace for each offline command (TLS libraries opened / module opened): " +
      ", ".join("`%s` %s/%s" % (a, b, c) for a, b, c in off) + ".\n")

w("## Download\n")
w("%d downloads (`esimctl --json add CODE --device D`, software eUICC, install notification "
  "sent) against the Python test SM-DP+ on 127.0.0.1 (`bench/download.sh`). Requests: "
  "%s (`%s`); TLS handshakes: %s; connect() calls: %s; processes: %s.\n"
  % (dl["runs"], ",".join(map(str, dl["requests"])), "`, `".join(dl["functions"]),
     ",".join(map(str, dl["tls_connections"])), dl.get("connects", "?"),
     ", ".join(dl.get("processes", []))))
w("| part | median ms | min-max |")
w("| --- | ---: | ---: |")
for key, label in (("wall_ms", "wall time"), ("smdp_ms", "SM-DP+ (request handling, its log's `ms`)"),
                   ("euicc_ms", "eUICC (ES10 steps, state writes)"),
                   ("esimctl_ms", "esimctl itself (the rest)"),
                   ("transport_ms", "- of which ES9+ transport: TLS, HTTP both sides"),
                   ("before_ms", "- of which before the download: start, store, eUICC open"),
                   ("after_ms", "- of which after it: store commit, output, exit")):
    w("| %s | %s | %s-%s |" % (label, ms(dl[key]), ms(dl[key.replace("_ms", "_min_ms")]),
                              ms(dl[key.replace("_ms", "_max_ms")])))
w("\nThe transport is the TLS handshake and the HTTP exchanges with a Python server, whose "
  "TLS and HTTP parsing its `ms` does not count. Processes loading libcurl and libssl: %s.\n"
  % ("; ".join("%s loads %s" % (p, ", ".join(
      x for x in l if re.match(r"lib(curl|ssl|gnutls)", x)) or "none")
      for p, l in sorted(dl.get("libraries", {}).items()))))

w(open(os.path.join(W, "apdus.md")).read())
w("Bench time: %s s.\n" % env["elapsed"])
w(KEEP)
text = "\n".join(out) + "\n"
if os.path.exists(OUT) and KEEP in open(OUT).read():
    text += open(OUT).read().split(KEEP, 1)[1].lstrip("\n")
with open(OUT, "w") as f:
    f.write(text)
print(text.split(KEEP)[0].split("## Scaling")[0])
EOF
echo "bench: report written to $OUT" >&2
