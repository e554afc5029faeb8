#!/usr/bin/env bash
# t0700-https.sh - the ES9+ transport (src/rsp/es9p.c, libcurl in esimctl-rsp.so)
# against local TLS servers, driven by tests/https/es9p_post.c.
#
# A CA made here with the openssl CLI signs the server certificates; a small python3
# HTTPS server (stdlib ssl) plays the SM-DP+ on 127.0.0.1 and ESIMCTL_RESOLVE maps the
# test names to it.  Checked: trust with --ca (PEM, DER, bundle) and without it, host
# name, expiry, a TLS 1.1-only server, redirects not followed, the body limit, a
# stalled response, keep-alive, binary-safe bodies, https_proxy (a CONNECT tunnel that
# cannot read the TLS inside), unusable addresses.
#
# Env: ESIMCTL_BUILD (the driver is $ESIMCTL_BUILD/es9p_post), ESIMCTL_SRC.
# Prints one line per check and 'N passed, N failed'; exits non-zero on any failure.
set -u

: "${ESIMCTL_BUILD:?ESIMCTL_BUILD must point at the build directory}"
HELPER=$ESIMCTL_BUILD/es9p_post
T=$(mktemp -d "${TMPDIR:-/tmp}/esimctl-t0700.XXXXXX")
SERVERS=()
cleanup() {
	local p
	for p in "${SERVERS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${SERVERS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
# Proxies from the environment would take the requests away from 127.0.0.1.
unset ESIMCTL_RESOLVE ESIMCTL_TRUST_SYSTEM_CA https_proxy HTTPS_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY
unset no_proxy NO_PROXY

PASS=0
FAIL=0
LAST=""
RC=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
nok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $*"
	echo "#   command: $LAST (exit $RC)"
	head -c 400 "$T/out" 2>/dev/null | tr -c '[:print:]\n' '.' | sed 's/^/#   stdout: /'
	echo
	head -5 "$T/err" 2>/dev/null | sed 's/^/#   stderr: /'
}
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
# as in lib.sh: a part that cannot run here makes the file exit 77 (skipped) unless
# something failed
SKIPS=0
skip_part() { SKIPS=$((SKIPS + 1)); echo "# SKIP $*"; }
finish() {
	echo "$PASS passed, $FAIL failed, $SKIPS skipped"
	[ "$FAIL" -eq 0 ] || exit 1
	[ "$SKIPS" -eq 0 ] || exit 77
	exit 0
}

for tool in python3 openssl timeout; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip_part "$tool not found"
		finish
	fi
done
if [ ! -x "$HELPER" ]; then
	echo "not ok - $HELPER not built"
	FAIL=1
	finish
fi

# ---- PKI: a CA, a good and an expired server certificate, an unrelated CA ----

mkdir -p "$T/pki/db"
cd "$T/pki" || exit 1
: >db/index.txt
echo 1000 >db/serial
cat >ca.cnf <<'EOF'
[ca]
default_ca = test_ca
[test_ca]
database = ./db/index.txt
serial = ./db/serial
new_certs_dir = ./db
certificate = ./ca.pem
private_key = ./ca.key
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:smdp.test
EOF
{
	openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
	openssl req -x509 -new -key ca.key -subj "/CN=esimctl t0700 CI" -days 30 -out ca.pem \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" &&
	openssl x509 -in ca.pem -outform DER -out ca.der &&
	openssl ecparam -name prime256v1 -genkey -noout -out other.key &&
	openssl req -x509 -new -key other.key -subj "/CN=unrelated CA" -days 30 -out other.pem &&
	cat other.pem ca.pem >bundle.pem &&
	openssl ecparam -name prime256v1 -genkey -noout -out srv.key &&
	openssl req -new -key srv.key -subj "/CN=smdp.test" -out srv.csr &&
	openssl ca -batch -config ca.cnf -extensions leaf -notext -days 30 \
		-in srv.csr -out srv.pem &&
	openssl ca -batch -config ca.cnf -extensions leaf -notext \
		-startdate 20200101000000Z -enddate 20200201000000Z -in srv.csr -out expired.pem
} >"$T/pki.log" 2>&1
if [ -s srv.pem ] && [ -s expired.pem ]; then
	ok "test PKI created with the openssl CLI"
else
	echo "not ok - test PKI not created"
	sed 's/^/#   /' "$T/pki.log"
	FAIL=$((FAIL + 1))
	finish
fi
cd "$T" || exit 1
printf 'not a certificate\n' >"$T/pki/junk.pem"

# ---- the server ----

cat >"$T/server.py" <<'EOF'
# python3 server.py CERT KEY PORTFILE [tls1.1]
import http.server, json, os, ssl, sys, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)

cert, key, portfile = sys.argv[1:4]
old_tls = len(sys.argv) > 4 and sys.argv[4] == "tls1.1"
connections = 0

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        global connections
        connections += 1
        super().setup()

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        p = self.path
        if p == "/echo":
            h = self.headers
            out = {"len": n, "ct": h.get("Content-Type"), "xap": h.get("X-Admin-Protocol"),
                   "ua": h.get("User-Agent"), "expect": h.get("Expect"), "host": h.get("Host"),
                   "connections": connections}
            self.reply(200, json.dumps(out, sort_keys=True).encode(),
                       [("Content-Type", "application/json")])
        elif p == "/raw":
            self.reply(200, body)
        elif p == "/nocontent":
            self.send_response(204)
            self.end_headers()
        elif p == "/redirect":
            self.reply(302, b"moved", [("Location", "https://elsewhere.test/gsma/rsp2/es9plus/x y")])
        elif p.startswith("/size/"):
            self.reply(200, b"x" * int(p[6:]))
        elif p == "/fail":
            self.reply(500, b"internal error")
        elif p == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"partial")
            self.wfile.flush()
            time.sleep(60)
        else:
            self.reply(404, b"no such path")

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
if old_tls:
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
ctx.load_cert_chain(cert, key)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
EOF

# Reads the helper's output and checks its framing: frames.py OUT count | N head | N body
cat >"$T/frames.py" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
frames, i = [], 0
while i < len(data):
    j = data.index(b"\n", i)
    head = data[i:j].decode("ascii")
    i = j + 1
    f = head.split(" ")
    if f[0] == "STATS":
        frames.append((head, b""))
        continue
    n = int(f[2] if f[0] == "ERR" else f[1])
    if i + n > len(data):
        sys.exit("truncated frame")
    frames.append((head, data[i:i + n]))
    i += n
if sys.argv[2] == "count":
    print(len(frames))
elif int(sys.argv[2]) <= len(frames):
    head, body = frames[int(sys.argv[2]) - 1]
    if sys.argv[3] == "head":
        print(head)
    else:
        sys.stdout.buffer.write(body)
else:
    sys.exit(1)
EOF

# start_server NAME CERT [tls1.1]: sets PORT_<NAME>; waits while the server runs (at most 120 s)
start_server() {
	local name=$1 certfile=$2 i
	python3 "$T/server.py" "$T/pki/$certfile" "$T/pki/srv.key" "$T/port.$name" ${3:+"$3"} \
		>"$T/server.$name.log" 2>&1 &
	SERVERS+=($!)
	for ((i = 0; i < 1200; i++)); do
		[ -s "$T/port.$name" ] && break
		kill -0 "${SERVERS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$T/port.$name" ]; then
		echo "not ok - server $name did not start"
		cat "$T/server.$name.log"
		FAIL=$((FAIL + 1))
		finish
	fi
	printf -v "PORT_$name" '%s' "$(cat "$T/port.$name")"
}

start_server good srv.pem
start_server expired expired.pem
start_server old srv.pem tls1.1
GOOD=smdp.test:$PORT_good
RESOLVE_GOOD=smdp.test:$PORT_good:127.0.0.1

# ---- helpers for the checks ----

newin() { : >"$T/in"; }
# req PATH [BODY]: append one request (ASCII body) to the input
req() { local body=${2-}; printf 'POST %s\n%s\n%s' "$1" "${#body}" "$body" >>"$T/in"; }
stats() { printf 'STATS\n' >>"$T/in"; }
# helper ADDRESS ARGS...: one session with the driver on $T/in, bounded; RC = exit status
helper() {
	LAST="es9p_post $*"
	timeout 30 "$HELPER" "$@" <"$T/in" >"$T/out" 2>"$T/err"
	RC=$?
}
head_of() { python3 "$T/frames.py" "$T/out" "$1" head 2>/dev/null; }
body_of() { python3 "$T/frames.py" "$T/out" "$1" body 2>/dev/null; }
nframes() { python3 "$T/frames.py" "$T/out" count 2>/dev/null; }
is() { [ "$1" = "$2" ]; }
like() { [[ $1 == $2 ]]; }
has() { [[ $1 == *"$2"* ]]; }

# ---- addresses: host[:port] only ----

newin
req /echo
for bad in https://smdp.test smdp.test/path "smdp.test:0" "smdp test"; do
	helper "$bad"
	check "address '$bad' refused: ERR 2" like "$(head_of 1)" "ERR 2 *"
done
helper "smdp.test:$PORT_good" </dev/null
: >"$T/in"
helper "smdp.test:$PORT_good"
check "no request: exit 0 and no output" is "$RC $(wc -c <"$T/out")" "0 0"

# ---- success with --ca, headers, keep-alive ----

export ESIMCTL_RESOLVE=$RESOLVE_GOOD
newin
req /echo '{"a":1}'
req /echo
req /echo
stats
helper "$GOOD" --ca "$T/pki/ca.pem"
check "trusted with --ca: exit 0" is "$RC" 0
check "trusted with --ca: HTTP 200" like "$(head_of 1)" "200 *"
B1=$(body_of 1)
check "Content-Type: application/json sent" has "$B1" '"ct": "application/json"'
check "X-Admin-Protocol: gsma/rsp/v2.2.0 sent" has "$B1" '"xap": "gsma/rsp/v2.2.0"'
check "User-Agent: gsma-rsp-lpad sent" has "$B1" '"ua": "gsma-rsp-lpad"'
check "no Expect header sent" has "$B1" '"expect": null'
check "request body length arrives" has "$B1" '"len": 7'
check "Host is the name, not the address" has "$B1" "\"host\": \"smdp.test:$PORT_good\""
C1=$(body_of 1 | sed 's/.*"connections": \([0-9]*\).*/\1/')
C3=$(body_of 3 | sed 's/.*"connections": \([0-9]*\).*/\1/')
check "keep-alive: the server saw one connection for three requests" is "$C1" "$C3"
check "keep-alive: STATS 3 requests, 1 connection, 1 handshake" is "$(head_of 4)" "STATS 3 1 1"

# ---- binary-safe framing, 204, 500 ----

printf 'a\0b\nc\r\n\377POST /x\n' >"$T/bin"
newin
printf 'POST /raw\n%s\n' "$(stat -c %s "$T/bin")" >>"$T/in"
cat "$T/bin" >>"$T/in"
req /nocontent
req /fail
helper "$GOOD" --ca "$T/pki/ca.pem"
body_of 1 >"$T/bin.back"
check "binary body (NUL, LF, CR, 0xFF) comes back byte for byte" cmp -s "$T/bin" "$T/bin.back"
check "204: '204 0'" is "$(head_of 2)" "204 0"
check "500 returned as it is" is "$(head_of 3)" "500 14"
check "500 body returned" is "$(body_of 3)" "internal error"
check "three frames and nothing else" is "$(nframes)" 3

# ---- trust ----

newin
req /echo
stats
helper "$GOOD"
check "untrusted without --ca (only the built-in GSMA roots): ERR 7" like "$(head_of 1)" "ERR 7 *"
check "untrusted: OpenSSL says 'unable to get local issuer certificate'" \
	has "$(body_of 1)" "unable to get local issuer certificate"
check "untrusted: the session goes on (exit 0, STATS after)" like "$RC $(head_of 2)" "0 STATS 1 *"
helper "$GOOD" --ca "$T/pki/other.pem"
check "unrelated --ca: still untrusted" has "$(body_of 1)" "unable to get local issuer certificate"
helper "$GOOD" --ca "$T/pki/ca.der"
check "--ca in DER: trusted" like "$(head_of 1)" "200 *"
helper "$GOOD" --ca "$T/pki/bundle.pem"
check "--ca bundle with several certificates: trusted" like "$(head_of 1)" "200 *"
helper "$GOOD" --ca "$T/pki/other.pem" --ca "$T/pki/ca.pem"
check "several --ca files: trusted" like "$(head_of 1)" "200 *"
helper "$GOOD" --ca "$T/pki/missing.pem"
check "missing --ca file: ERR 2 naming it" like "$(head_of 1) $(body_of 1)" "ERR 2 *cannot open CA file*missing.pem*"
helper "$GOOD" --ca "$T/pki/junk.pem"
check "--ca file without a certificate: ERR 2" like "$(head_of 1) $(body_of 1)" "ERR 2 *junk.pem*"

# ---- names and resolving ----

newin
req /echo
ESIMCTL_RESOLVE=other.test:$PORT_good:127.0.0.1 helper "other.test:$PORT_good" --ca "$T/pki/ca.pem"
check "wrong host name: ERR 7" like "$(head_of 1)" "ERR 7 *"
check "wrong host name: says 'hostname mismatch'" has "$(body_of 1)" "hostname mismatch"
ESIMCTL_RESOLVE="x.test:1:127.0.0.9,$RESOLVE_GOOD" helper "$GOOD" --ca "$T/pki/ca.pem"
check "ESIMCTL_RESOLVE with several entries" like "$(head_of 1)" "200 *"
ESIMCTL_RESOLVE="smdp.test:oops" helper "$GOOD" --ca "$T/pki/ca.pem"
check "bad ESIMCTL_RESOLVE: ERR 2 naming it" like "$(head_of 1) $(body_of 1)" "ERR 2 *ESIMCTL_RESOLVE*"
ESIMCTL_RESOLVE= helper "smdp.test:$PORT_good" --ca "$T/pki/ca.pem" --connect-timeout 3000
check "without a mapping the test name does not resolve: ERR 7" like "$(head_of 1)" "ERR 7 *"

# ---- expiry and TLS versions ----

newin
req /echo
ESIMCTL_RESOLVE=smdp.test:$PORT_expired:127.0.0.1 helper "smdp.test:$PORT_expired" --ca "$T/pki/ca.pem"
check "expired certificate: ERR 7" like "$(head_of 1)" "ERR 7 *"
check "expired certificate: says 'certificate has expired'" has "$(body_of 1)" "certificate has expired"

if echo | timeout 60 openssl s_client -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' \
	-connect "127.0.0.1:$PORT_old" 2>&1 | grep -q 'Protocol *: TLSv1.1'; then
	ok "the old server speaks TLS 1.1 (openssl s_client)"
else
	skip_part "this openssl cannot speak TLS 1.1 to check the old server"
fi
ESIMCTL_RESOLVE=smdp.test:$PORT_old:127.0.0.1 helper "smdp.test:$PORT_old" --ca "$T/pki/ca.pem"
check "TLS 1.1-only server refused: ERR 7" like "$(head_of 1)" "ERR 7 *"
check "TLS 1.1-only server refused: a protocol version error" \
	like "$(body_of 1)" "*[Pp]rotocol*"

# ---- redirects, body limit, stalls ----

newin
req /redirect
stats
helper "$GOOD" --ca "$T/pki/ca.pem"
check "302 returned as it is, with the Location" \
	is "$(head_of 1)" "302 5 https://elsewhere.test/gsma/rsp2/es9plus/x%20y"
check "redirect not followed: one request, one connection" is "$(head_of 2)" "STATS 1 1 1"

newin
req /size/1000
req /size/1001
req /size/10
stats
helper "$GOOD" --ca "$T/pki/ca.pem" --max-size 1000
check "body of exactly --max-size passes" is "$(head_of 1)" "200 1000"
check "body over --max-size: ERR 7" like "$(head_of 2)" "ERR 7 *"
check "body over --max-size: 'response larger than 1000 bytes'" like "$(body_of 2)" "*failed: response larger than 1000 bytes"
check "after a cut body the next request works" is "$(head_of 3)" "200 10"
check "nothing of the oversized body leaks into the stream" is "$(nframes)" 4

newin
req /stall
req /echo
start=$EPOCHSECONDS
helper "$GOOD" --ca "$T/pki/ca.pem" --timeout 1500
# The server stalls 60 s and helper() stops the driver after 30 s, so "timed out" means
# that --timeout cut the wait short; how long that took is the machine's business.
check "stalled response: ERR 7 'timed out'" like "$(head_of 1) $(body_of 1)" "ERR 7 *timed out*"
echo "# the stalled request gave up after $((EPOCHSECONDS - start)) s (--timeout 1500)"
check "after a timeout the next request works" like "$(head_of 2)" "200 *"

# ---- https_proxy: a CONNECT tunnel, TLS end to end ----

cat >"$T/proxy.py" <<'EOF'
# python3 proxy.py PORTFILE LOG: an HTTP CONNECT proxy that tunnels HOST:PORT to
# 127.0.0.1:PORT and logs each CONNECT line; it sees only the TLS bytes.
import os, socket, sys, threading
portfile, log = sys.argv[1:3]
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
def handle(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        if not d:
            return c.close()
        head += d
    line = head.split(b"\r\n")[0].decode()
    with open(log, "a") as f:
        f.write(line + "\n")
    parts = line.split()
    if parts[0] != "CONNECT":
        c.sendall(b"HTTP/1.1 405 no\r\n\r\n")
        return c.close()
    up = socket.create_connection(("127.0.0.1", int(parts[1].rsplit(":", 1)[1])))
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(up, c), daemon=True).start()
    pipe(c, up)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF
python3 "$T/proxy.py" "$T/port.proxy" "$T/proxy.log" >"$T/proxy.err" 2>&1 &
SERVERS+=($!)
for ((i = 0; i < 100; i++)); do
	[ -s "$T/port.proxy" ] && break
	sleep 0.1
done
PROXY=http://127.0.0.1:$(cat "$T/port.proxy")
newin
req /echo
req /echo
stats
# No ESIMCTL_RESOLVE: the proxy, not esimctl, reaches smdp.test.
ESIMCTL_RESOLVE= https_proxy=$PROXY helper "$GOOD" --ca "$T/pki/ca.pem"
check "through https_proxy: HTTP 200" like "$(head_of 1)" "200 *"
check "through https_proxy: one CONNECT to the SM-DP+ by name" is "$(cat "$T/proxy.log" 2>/dev/null)" "CONNECT $GOOD HTTP/1.1"
check "through https_proxy: 2 requests, 1 connection, 1 handshake" is "$(head_of 3)" "STATS 2 1 1"
: >"$T/proxy.log"
ESIMCTL_RESOLVE= https_proxy=$PROXY helper "$GOOD"
check "through https_proxy the server's certificate is still verified: ERR 7" \
	like "$(head_of 1) $(body_of 1)" "ERR 7 *unable to get local issuer certificate*"
: >"$T/proxy.log"
ESIMCTL_RESOLVE=$RESOLVE_GOOD https_proxy=$PROXY no_proxy=smdp.test helper "$GOOD" --ca "$T/pki/ca.pem"
check "no_proxy: HTTP 200" like "$(head_of 1)" "200 *"
check "no_proxy: straight to the server, the proxy unused" is "$(cat "$T/proxy.log")" ""

finish
