#!/usr/bin/python3
"""selftest.py -- validate the test SM-DP+ (smdpp.py), mkpki.py and mkupp.py.

    /usr/bin/python3 tests/smdp/selftest.py [-v] [-k SUBSTRING] [--keep DIR]
                                            [--sgp26 DIR]

It generates a PKI per curve (NIST P-256 and brainpoolP256r1) with mkpki.py,
starts smdpp.py on a free port and acts as a minimal LPA + eUICC written here
from SGP.22 as public implementations describe it, independently of smdpp.py's own code (own TLV parser,
own BSP unwrapping): a full profile download over real HTTPS, BPP decryption
and UPP round trip, install (BF37) and delete (OtherSignedNotification)
notifications, cancelSession, the error codes, the misbehaviour modes and the
TLS negative certificates.  It also checks the KDF / SCP03t test vectors of
pySim's test_esim_bsp.py against both implementations.

--sgp26 DIR additionally runs one NIST download against the GSMA SGP.26 tree in
DIR (with a TS.48 package from DIR/upp, internal use only).

The last line printed is "N passed, N failed"; the exit status is non-zero if
anything failed.
"""

import atexit
import os
import shutil
import sys
import tempfile

# Brainpool TLS: OpenSSL 3.0 offers brainpool groups only if configured, and
# Python's ssl has no API for the group list.  Point OpenSSL at a config with
# a Groups line *before* ssl is first imported (see README.md).
_TMP = tempfile.mkdtemp(prefix="smdpp-selftest-")
atexit.register(shutil.rmtree, _TMP, True)
_OSSL = os.path.join(_TMP, "openssl-client.cnf")
with open(_OSSL, "w") as _f:
    _f.write("openssl_conf = c\n[c]\nssl_conf = s\n[s]\nsystem_default = d\n[d]\n"
             "Groups = X25519:prime256v1:brainpoolP256r1:secp384r1\n")
_SERVER_ENV = dict(os.environ)
os.environ["OPENSSL_CONF"] = _OSSL

import argparse          # noqa: E402
import base64            # noqa: E402
import hashlib           # noqa: E402
import http.client       # noqa: E402
import json              # noqa: E402
import socket            # noqa: E402
import ssl               # noqa: E402
import subprocess        # noqa: E402
import threading         # noqa: E402
import time              # noqa: E402
import traceback         # noqa: E402

from cryptography import x509                                         # noqa: E402
from cryptography.exceptions import InvalidSignature                  # noqa: E402
from cryptography.hazmat.primitives import cmac, hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec              # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import (          # noqa: E402
    decode_dss_signature, encode_dss_signature)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
HOST = "testsmdpplus1.example.com"


def H(s):
    return bytes.fromhex("".join(s.split()))


# ==========================================================================
# Minimal BER-TLV handling for the eUICC/LPA side (independent of smdpp.py)
# ==========================================================================

def enc_len(n):
    if n < 128:
        return bytes([n])
    out = []
    while n:
        out.insert(0, n & 0xFF)
        n >>= 8
    return bytes([0x80 + len(out)] + out)


def T(tag_hex, *values):
    """T('BF38', a, b) -> tag bytes + DER length + concatenated values."""
    v = b"".join(values)
    return H(tag_hex) + enc_len(len(v)) + v


def tlvs(buf):
    """Split BUF into a list of (tag_hex, value, raw)."""
    out, i = [], 0
    while i < len(buf):
        j = i + 1
        if buf[i] & 0x1F == 0x1F:
            while buf[j] & 0x80:
                j += 1
            j += 1
        tag = buf[i:j].hex().upper()
        ln = buf[j]
        j += 1
        if ln & 0x80:
            k = ln & 0x7F
            ln = int.from_bytes(buf[j:j + k], "big")
            j += k
        if j + ln > len(buf):
            raise ValueError("TLV %s overruns (%d > %d)" % (tag, j + ln, len(buf)))
        out.append((tag, buf[j:j + ln], buf[i:j + ln]))
        i = j + ln
    return out


def one(buf, tag=None):
    lst = tlvs(buf)
    if len(lst) != 1 or (tag and lst[0][0] != tag):
        raise ValueError("expected a single %s TLV, got %s" % (tag, [t for t, _, _ in lst]))
    return lst[0]


def kids(value):
    return {t: (v, raw) for t, v, raw in tlvs(value)}


def swap_bcd(iccid):
    s = iccid + "F" * (20 - len(iccid))
    return bytes.fromhex("".join(s[i + 1] + s[i] for i in range(0, 20, 2)))


# ==========================================================================
# Crypto for the eUICC side
# ==========================================================================

def sign_rs(key, data):
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_rs(pub, sig, data):
    if len(sig) != 64:
        return False
    try:
        pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
                   data, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def kdf(shs, key_type, key_len, host_id, eid):
    info = bytes([key_type, key_len, len(host_id)]) + host_id + bytes([len(eid)]) + eid
    stream = b"".join(hashlib.sha256(shs + c.to_bytes(4, "big") + info).digest() for c in (1, 2))
    return stream[0:16], stream[16:32], stream[32:48]        # MCV, S-ENC, S-MAC


class Unwrap:
    """eUICC side of SCP03t (SGP.22 v3 2.6.4, 2.5.6): verify the MAC, decrypt, unpad."""

    def __init__(self, enc, mac, mcv):
        self.enc, self.mac, self.mcv, self.ctr = enc, mac, mcv, 1

    def open(self, raw):
        tag, value, _ = one(raw)
        hdr = raw[:len(raw) - len(value)]
        c, got = value[:-8], value[-8:]
        c_mac = cmac.CMAC(algorithms.AES(self.mac))
        c_mac.update(self.mcv + hdr + c)
        full = c_mac.finalize()
        if full[:8] != got:
            raise BppError(None, 8, "MAC mismatch on %s segment" % tag)
        self.mcv = full
        ctr = self.ctr
        self.ctr += 1
        if tag == "88":
            return c
        if len(c) % 16:
            raise BppError(None, 7, "ciphertext not block aligned")
        icv_enc = Cipher(algorithms.AES(self.enc), modes.ECB()).encryptor()
        icv = icv_enc.update(ctr.to_bytes(16, "big")) + icv_enc.finalize()
        d = Cipher(algorithms.AES(self.enc), modes.CBC(icv)).decryptor()
        p = (d.update(c) + d.finalize()).rstrip(b"\x00")
        if not p.endswith(b"\x80"):
            raise BppError(None, 7, "bad padding")
        return p[:-1]


class BppError(Exception):
    def __init__(self, cmd, reason, msg):
        super().__init__(msg)
        self.cmd, self.reason = cmd, reason


class EuiccError(Exception):
    """What a real eUICC would return as an error code (SGP.22 5.7.13, 5.7.5)."""

    def __init__(self, code, msg):
        super().__init__("%s (%s)" % (msg, code))
        self.code = code


# ==========================================================================
# A minimal software eUICC (only what the download needs)
# ==========================================================================

class SoftEuicc:
    def __init__(self, pki_dir, entry="euicc"):
        with open(os.path.join(pki_dir, "manifest.json")) as f:
            m = json.load(f)
        p = lambda rel: os.path.join(pki_dir, rel)  # noqa: E731
        with open(p(m[entry]["key_pem"]), "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), None)
        self.cert = open(p(m[entry]["cert_der"]), "rb").read()
        self.eum = open(p(m["eum"]["cert_der"]), "rb").read()
        self.ci = x509.load_der_x509_certificate(open(p(m["ci"]["cert_der"]), "rb").read())
        self.ci_ski = H(m["ci"]["ski"])
        self.eid = m[entry]["eid"]
        self.curve = self.key.curve
        self.seq = 0
        self.s = {}          # the "session context" of the eUICC

    # ES10b GetEUICCChallenge / GetEUICCInfo1 (SGP.22 5.7.7 / 5.7.8)
    def get_challenge(self):
        self.s = {"challenge": os.urandom(16)}
        return self.s["challenge"]

    def info1(self, ski=None):
        pk = T("04", ski or self.ci_ski)
        return T("BF20", T("82", b"\x02\x02\x00"), T("A9", pk), T("AA", pk))

    def info2(self):
        pk = T("04", self.ci_ski)
        return T("BF22", T("81", b"\x02\x03\x01"), T("82", b"\x02\x02\x00"), T("83", b"\x01\x00\x00"),
                 T("84", H("8101008204000100008302 1000")), T("85", b"\x07\x80"),
                 T("88", b"\x04\x90"), T("A9", pk), T("AA", pk))

    def _check_server_cert(self, der, policy):
        c = x509.load_der_x509_certificate(der)
        aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        if aki != self.ci_ski:
            raise EuiccError(7, "ciPKUnknown")
        try:
            self.ci.public_key().verify(c.signature, c.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise EuiccError(1, "invalidCertificate")
        pols = [pi.policy_identifier.dotted_string
                for pi in c.extensions.get_extension_for_class(x509.CertificatePolicies).value]
        if policy not in pols:
            raise EuiccError(1, "invalidCertificate (policy)")
        return c

    # ES10b AuthenticateServer (SGP.22 5.7.13, "checks made by the eUICC")
    def authenticate_server(self, ia, matching_id, imei=None, sign_corrupt=False):
        ss1_raw = base64.b64decode(ia["serverSigned1"])
        _, ss1_val, _ = one(ss1_raw, "30")
        _, sig1, _ = one(base64.b64decode(ia["serverSignature1"]), "5F37")
        _, ci_id, _ = one(base64.b64decode(ia["euiccCiPKIdToBeUsed"]), "04")
        dpauth_der = base64.b64decode(ia["serverCertificate"])
        if ci_id != self.ci_ski:
            raise EuiccError(7, "ciPKUnknown")
        dpauth = self._check_server_cert(dpauth_der, "2.23.146.1.2.1.4")
        if not verify_rs(dpauth.public_key(), sig1, ss1_raw):
            raise EuiccError(2, "invalidSignature")
        k = kids(ss1_val)
        if k["81"][0] != self.s.get("challenge"):
            raise EuiccError(6, "euiccChallengeMismatch")
        self.s.update(txid=k["80"][0], addr=k["83"][0], sch=k["84"][0])
        dev = T("A1", T("80", H("35290611")), T("A1"), *( [T("82", imei)] if imei else []))
        ctx1 = T("A0", *([T("80", matching_id.encode())] if matching_id is not None else []), dev)
        signed1 = T("30", T("80", self.s["txid"]), T("83", self.s["addr"]), T("84", self.s["sch"]),
                    self.info2(), ctx1)
        sig = sign_rs(self.key, signed1)
        if sign_corrupt:
            sig = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
        self.s["sig1"] = T("5F37", sig)
        return T("BF38", T("A0", signed1, self.s["sig1"], self.cert, self.eum))

    # ES10b PrepareDownload (SGP.22 5.7.5)
    def prepare_download(self, ac, cc=None):
        ss2_raw = base64.b64decode(ac["smdpSigned2"])
        _, sig2, sig2_raw = one(base64.b64decode(ac["smdpSignature2"]), "5F37")
        dppb = self._check_server_cert(base64.b64decode(ac["smdpCertificate"]), "2.23.146.1.2.1.5")
        if not verify_rs(dppb.public_key(), sig2, ss2_raw + self.s["sig1"]):
            raise EuiccError(2, "invalidSignature")
        k = kids(one(ss2_raw, "30")[1])
        if k["80"][0] != self.s["txid"]:
            raise EuiccError(5, "invalidTransactionId")
        self.s["cc_required"] = k["01"][0] == b"\xFF"
        self.s["dppb"] = dppb
        rid = dppb.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.RegisteredID)
        self.s["smdp_oid"] = rid[0].dotted_string
        self.s["ot"] = ec.generate_private_key(self.curve)
        self.s["otpk"] = self.s["ot"].public_key().public_bytes(serialization.Encoding.X962,
                                                                serialization.PublicFormat.UncompressedPoint)
        extra = []
        if cc is not None:
            extra.append(T("04", hashlib.sha256(hashlib.sha256(cc.encode()).digest() + self.s["txid"]).digest()))
        signed2 = T("30", T("80", self.s["txid"]), T("5F49", self.s["otpk"]), *extra)
        return T("BF21", T("A0", signed2, T("5F37", sign_rs(self.key, signed2 + sig2_raw))))

    # ES10b LoadBoundProfilePackage, in one go (SGP.22 5.7.6, ES8+ 5.5)
    def load_bpp(self, bpp):
        out = {"cmd": 0}
        _, body, _ = one(bpp, "BF36")
        parts = tlvs(body)
        tags = [t for t, _, _ in parts]
        if tags[:4] != ["BF23", "A0", "A1", "A2" if "A2" in tags else "A3"] or tags[-1] != "A3":
            raise BppError(0, 1, "BPP structure %s" % tags)
        bf23 = kids(parts[0][1])
        items = tlvs(parts[0][1])
        if [t for t, _, _ in items] != ["82", "80", "A6", "5F49", "5F37"]:
            raise BppError(0, 1, "BF23 structure")
        if bf23["82"][0] != b"\x01":
            raise BppError(0, 5, "unsupportedRemoteOperationType")
        if bf23["80"][0] != self.s["txid"]:
            raise BppError(0, 3, "invalidTransactionId")
        crt = kids(bf23["A6"][0])
        if crt["80"][0] != b"\x88" or crt["81"][0] != b"\x10":
            raise BppError(0, 4, "unsupportedCrtValues")
        signed = b"".join(raw for _, _, raw in items[:4]) + T("5F49", self.s["otpk"])
        if not verify_rs(self.s["dppb"].public_key(), bf23["5F37"][0], signed):
            raise BppError(0, 2, "invalidSignature (smdpSign)")
        otpk_dp = ec.EllipticCurvePublicKey.from_encoded_point(self.curve, bf23["5F49"][0])
        shs = self.s["ot"].exchange(ec.ECDH(), otpk_dp)
        host_id = crt["84"][0]
        mcv, enc, mac = kdf(shs, 0x88, 16, host_id, bytes.fromhex(self.eid))
        u = Unwrap(enc, mac, mcv)
        out["host_id"] = host_id
        try:
            out["cmd"] = 1
            bf24 = b"".join(u.open(raw) for _, _, raw in tlvs(parts[1][1]))
            if bf24[:2] != H("BF24"):
                raise BppError(1, 7, "not a ConfigureISDPRequest")
            out["cmd"] = 2
            out["metadata"] = b"".join(u.open(raw) for _, _, raw in tlvs(parts[2][1]))
            idx = 3
            if parts[3][0] == "A2":
                out["cmd"] = 4
                bf26 = b"".join(u.open(raw) for _, _, raw in tlvs(parts[3][1]))
                k = kids(one(bf26, "BF26")[1])
                u = Unwrap(k["81"][0], k["82"][0], k["80"][0])
                out["replaced_keys"] = True
                idx = 4
            out["cmd"] = 5
            segs = tlvs(parts[idx][1])
            out["segments86"] = [len(raw) for _, _, raw in segs]
            out["upp"] = b"".join(u.open(raw) for _, _, raw in segs)
        except BppError as e:
            e.cmd = out["cmd"] if e.cmd is None else e.cmd
            raise
        self.s["metadata"] = out["metadata"]
        return out

    def _iccid_of(self, metadata):
        return kids(one(metadata, "BF25")[1])["5A"][0]

    # notifications (SGP.22 2.5.6, 5.7.9-5.7.11)
    def pir(self, ok=True, cmd=5, reason=8, address=None):
        self.seq += 1
        meta = T("BF2F", T("80", bytes([self.seq])), T("81", b"\x07\x80"),
                 T("0C", (address or self.s["addr"])), T("5A", self._iccid_of(self.s["metadata"])))
        oid = T("06", H("88370A"))
        if ok:
            fin = T("A2", T("A0", T("4F", H("A0000005591010FFFFFFFF8900001100")),
                            T("04", H("3007A0053003800100"))))
        else:
            fin = T("A2", T("A1", T("80", bytes([cmd])), T("81", bytes([reason]))))
        pird = T("BF27", T("80", self.s["txid"]), meta, oid, fin)
        return T("BF37", pird, T("5F37", sign_rs(self.key, pird)))

    def other_notification(self, event_bits, iccid_bcd, address, corrupt=False):
        self.seq += 1
        meta = T("BF2F", T("80", bytes([self.seq])), T("81", event_bits), T("0C", address.encode()),
                 T("5A", iccid_bcd))
        sig = sign_rs(self.key, meta)
        if corrupt:
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        return T("30", meta, T("5F37", sig), self.cert, self.eum)

    def cancel(self, reason, oid=H("88370A")):
        signed = T("30", T("80", self.s["txid"]), T("81", oid), T("82", bytes([reason])))
        return T("BF41", T("A0", signed, T("5F37", sign_rs(self.key, signed))))


# ==========================================================================
# ES9+ client over real HTTPS (the "LPA")
# ==========================================================================

class Reply:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    @property
    def fes(self):
        try:
            return self.json["header"]["functionExecutionStatus"]
        except (TypeError, KeyError):
            return {}

    @property
    def ok(self):
        return self.status == 200 and self.fes.get("status") == "Executed-Success"

    @property
    def code(self):
        sc = self.fes.get("statusCodeData", {})
        return "%s/%s" % (sc.get("subjectCode"), sc.get("reasonCode"))

    def __repr__(self):
        return "Reply(%s %s)" % (self.status, self.raw[:300])


class Es9Client:
    def __init__(self, port, cafile, tls12=False, host=HOST):
        self.port, self.host = port, host
        self.ctx = ssl.create_default_context(cafile=cafile)
        if tls12:
            self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2

    def request(self, path, body=b"", method="POST", headers=None, timeout=10):
        port, ctx = self.port, self.ctx

        class Conn(http.client.HTTPSConnection):
            def connect(self):
                sock = socket.create_connection(("127.0.0.1", port), self.timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.sock = ctx.wrap_socket(sock, server_hostname=self.host)

        conn = Conn(self.host, port, context=ctx, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Reply(r.status, dict(r.getheaders()), r.read())
        finally:
            conn.close()

    def es9(self, function, obj, headers=None, timeout=10, raw=None):
        h = {"Content-Type": "application/json", "X-Admin-Protocol": "gsma/rsp/v2.2.0",
             "User-Agent": "gsma-rsp-lpad"}
        if headers is not None:
            h = headers
        body = raw if raw is not None else json.dumps(obj).encode()
        return self.request("/gsma/rsp2/es9plus/" + function, body, headers=h, timeout=timeout)

    def admin(self, path, obj=None):
        r = self.request(path, json.dumps(obj or {}).encode(), headers={"Content-Type": "application/json"})
        if r.status != 200:
            raise RuntimeError("admin %s failed: %r" % (path, r))
        return r.json

    def state(self):
        return self.request("/test/state", method="GET").json


def b64e(b):
    return base64.b64encode(b).decode()


# ==========================================================================
# Test harness
# ==========================================================================

class Results:
    def __init__(self, verbose, filt):
        self.passed = self.failed = 0
        self.verbose, self.filt = verbose, filt
        self.failures = []

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            if self.verbose:
                print("PASS %s" % name)
        else:
            self.failed += 1
            self.failures.append(name)
            print("FAIL %s %s" % (name, detail))
        return cond

    def run(self, name, fn, *a):
        if self.filt and self.filt not in name:
            return
        t0 = time.monotonic()
        try:
            fn(*a)
        except Exception:
            self.check(name + " (exception)", False, "\n" + traceback.format_exc())
        if self.verbose:
            print("---- %s done in %.2fs" % (name, time.monotonic() - t0))


class Server:
    def __init__(self, workdir, pki, args, name="smdpp"):
        self.log = os.path.join(workdir, name + ".log.jsonl")
        self.state = os.path.join(workdir, name + ".state.jsonl")
        cmd = [PY, os.path.join(HERE, "smdpp.py"), "--pki", pki, "--port", "0", "--log", self.log, "-v",
               "--state", self.state] + args
        self.pki_dir = pki
        self.err = open(os.path.join(workdir, name + ".stderr"), "w")
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, env=_SERVER_ENV, text=True)
        self.port = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if not line:
                break
            if line.startswith("READY "):
                self.port = int(line.split()[1])
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("server did not become ready: %s" % open(self.err.name).read())

    def records(self, path=None):
        out = []
        with open(path or self.log) as f:
            for line in f:
                out.append(json.loads(line))
        return out

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.err.close()


# ---------------------------------------------------------------------------
# Flow helpers
# ---------------------------------------------------------------------------

def initiate(cli, eu, address=HOST, ski=None):
    ch = eu.get_challenge()
    return cli.es9("initiateAuthentication", {"smdpAddress": address, "euiccChallenge": b64e(ch),
                                               "euiccInfo1": b64e(eu.info1(ski))})


def authenticate(cli, eu, ia, matching_id, **kw):
    bf38 = eu.authenticate_server(ia.json, matching_id, **kw)
    return cli.es9("authenticateClient", {"transactionId": ia.json["transactionId"],
                                          "authenticateServerResponse": b64e(bf38)})


def get_bpp(cli, eu, ac, cc=None):
    bf21 = eu.prepare_download(ac.json, cc)
    return cli.es9("getBoundProfilePackage", {"transactionId": ac.json["transactionId"],
                                              "prepareDownloadResponse": b64e(bf21)})


def upto_auth(cli, eu, mid):
    ia = initiate(cli, eu)
    if not ia.ok:
        raise RuntimeError("initiateAuthentication failed: %r" % ia)
    ac = authenticate(cli, eu, ia, mid)
    return ia, ac


def cancel(cli, eu, txid_hex, reason=1):
    return cli.es9("cancelSession", {"transactionId": txid_hex, "cancelSessionResponse": b64e(eu.cancel(reason))})


def notify(cli, blob):
    return cli.es9("handleNotification", {"pendingNotification": b64e(blob)})


def events(srv, kind):
    return [r for r in srv.records(srv.state) if r.get("event") == kind]


# ==========================================================================
# Tests
# ==========================================================================

def test_vectors(R):
    """KDF / SCP03t vectors (pySim test_esim_bsp.py), against smdpp.py's code and ours."""
    sys.path.insert(0, HERE)
    import smdpp
    # ECDH (P-256)
    otpk = H("0400F7B8D71403F21D84B00CD9E561178D737D3F4D065E62FEE279271298DD4F07"
             "4794AB791B9939D4461296EFE388AA26731064263AF988B7D2C4D77DA44801B5")
    sk = ec.derive_private_key(int("FB68A38CCEDB69E15CBE03C256228998AC398587E5DC7117F948145C839D61A4", 16),
                               ec.SECP256R1())
    shs = sk.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), otpk))
    R.check("vector ECDH ShS", shs == H("C9A993DD4879A8F7161F2085410EDD4F9652F1DF37BE097BA96BA2CA6BE528FE"))
    eid1, eid2 = H("89049032123451234512345678901235"), H("89049032123451234512345678901335")
    host = b"\x80" * 8
    exp1 = (H("406D507B448A699E7A36A38494DEBBDE"), H("472F5BFADD97F21D34F3CE9B51B92751"),
            H("9EC07F5B36A13E12A991D66E294E6242"))
    exp2 = (H("734BC93DDB10C71C5AD13D420DC08B5B"), H("D782D575B22A38334556A3D9A1E2AE6B"),
            H("A35ADDC192AE8F934E2932116C7E89E7"))
    shs2 = H("8902DCA391BBB22570FE60C176076246F568B1941265DFF1D729E63039658089")
    R.check("vector KDF 1 (smdpp)", smdpp.bsp_session_keys(shs, host, eid1) == exp1)
    R.check("vector KDF 2 (smdpp)", smdpp.bsp_session_keys(shs2, host, eid2) == exp2)
    R.check("vector KDF 1 (selftest)", kdf(shs, 0x88, 16, host, eid1) == exp1)
    R.check("vector KDF 2 (selftest)", kdf(shs2, 0x88, 16, host, eid2) == exp2)
    R.check("vector SharedInfo layout", bytes([0x88, 0x10, 8]) + host + b"\x10" + eid1 ==
            H("88 10 08 8080808080808080 10 89049032123451234512345678901235"))
    mcv, enc, mac = exp1
    b = smdpp.Scp03t(enc, mac, mcv)
    R.check("vector ICV ctr=1", b.icv() == H("CBAEAF843222738E67D2D10C793109B1"))
    v87 = H("8718F6FE031E4B9CFE87C8E1E62F3FDE85C49412D7722A6A2D89")
    p88 = H("BF252D5A0A98001032547698103214910947534D415F54455354921147534D415F544553545F50524F46494C45950100")
    v88 = H("8838") + p88 + H("8A62CC9ADBB5CCBC")
    p87b = H("BF2636 8010 000102030405060708090A0B0C0D0E0F 8110 010102030405060708090A0B0C0D0E0F"
             " 8210 020102030405060708090A0B0C0D0E0F")
    v87b = H("8748A14C800A001992351CD46AD2945654674369701D82B7B46567652BC8FBED234939FC57FBA748015525FD6C651E"
             "9D3D1330652D42A0CFAD950E912122AF4EC5362D3C0BC535729C40")
    R.check("vector 87 BF2400 (smdpp)", b.protect(0x87, H("BF2400")) == v87)
    R.check("vector 88 BF25 (smdpp)", b.protect(0x88, p88) == v88)
    R.check("vector 87 BF26 (smdpp)", b.protect(0x87, p87b) == v87b)
    u = Unwrap(enc, mac, mcv)
    R.check("vector 87 BF2400 (selftest unwrap)", u.open(v87) == H("BF2400"))
    R.check("vector 88 BF25 (selftest unwrap)", u.open(v88) == p88)
    R.check("vector 87 BF26 (selftest unwrap)", u.open(v87b) == p87b)
    # DER details the rest depends on (X.690 DER / ETSI TS 102 221 13.2)
    R.check("ICCID swapped BCD 20", smdpp.iccid_to_swapped_bcd("89000123456789012341") == H("98001032547698103214"))
    R.check("ICCID swapped BCD 19", smdpp.iccid_to_swapped_bcd("8949449999999990031") == H("98944499999999093 0F1"))
    R.check("NotificationEvent bits", [smdpp.der_bitstring({i}) for i in range(4)] ==
            [H("0780"), H("0640"), H("0520"), H("0410")])
    R.check("OID 2.999.10", smdpp.oid_encode("2.999.10") == H("88370A") and smdpp.oid_decode(H("88370A")) == "2.999.10")
    R.check("INTEGER 128", smdpp.der_int(128) == H("0080"))
    cc_hash = hashlib.sha256(hashlib.sha256(b"1234").digest() + H("00112233445566778899AABBCCDDEEFF")).digest()
    R.check("vector hashCc", cc_hash == H("06B387355633C795AA7EC0BBA73682C268C2E9326B649540D7FDB3F866A8761C"))


def test_mkupp(R, work):
    sys.path.insert(0, HERE)
    import mkupp
    out = os.path.join(work, "synthetic.der")
    subprocess.check_call([PY, os.path.join(HERE, "mkupp.py"), out, "--iccid", "8949449999999990023",
                           "--size", "5000", "--seed", "7"])
    upp = open(out, "rb").read()
    R.check("mkupp size", len(upp) == 5000, len(upp))
    R.check("mkupp header ICCID plain BCD", H("830A 89494499999999900 23F") in upp)
    pes = [t for t, _, _ in tlvs(upp)]
    R.check("mkupp PE sequence", pes[0] == "A0" and pes[-1] == "AA" and set(pes[1:-1]) == {"A9"}, pes)
    R.check("mkupp deterministic", mkupp.build_synthetic_upp("8949449999999990023", 5000, 7) == upp)
    R.check("mkupp replace iccid", mkupp.header_info(mkupp.replace_header_iccid(upp, "89000123456789012341"))
            ["iccid"] == "89000123456789012341")


def test_pki(R, pki, curve):
    with open(os.path.join(pki, "manifest.json")) as f:
        m = json.load(f)
    need = ["ci", "eum", "euicc", "dpauth", "dppb", "dptls", "untrusted_ci", "untrusted_tls", "wronghost_tls",
            "expired_tls", "euicc2", "euicc_badeid", "euicc_expired"]
    R.check("pki %s manifest entries" % curve, all(k in m for k in need), sorted(m))
    files_ok = all(os.path.exists(os.path.join(pki, m[k][f])) for k in need for f in ("cert_pem", "cert_der"))
    R.check("pki %s files exist" % curve, files_ok)
    load = lambda k: x509.load_der_x509_certificate(open(os.path.join(pki, m[k]["cert_der"]), "rb").read())  # noqa
    ci, eum, eu, dpa, dpb, tls = (load(k) for k in ("ci", "eum", "euicc", "dpauth", "dppb", "dptls"))
    want_curve = {"nist": "secp256r1", "brp": "brainpoolP256r1"}[curve]
    R.check("pki %s curve" % curve, ci.public_key().curve.name == want_curve, ci.public_key().curve.name)

    def pol(c):
        return [p.policy_identifier.dotted_string for p in c.extensions.get_extension_for_class(
            x509.CertificatePolicies).value]
    R.check("pki %s policies" % curve, [pol(c) for c in (ci, eu, eum, tls, dpa, dpb)] ==
            [["2.23.146.1.2.1.%d" % i] for i in range(6)])

    def signed_by(c, issuer):
        try:
            issuer.public_key().verify(c.signature, c.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False
    R.check("pki %s chain signatures" % curve, all([signed_by(ci, ci), signed_by(eum, ci), signed_by(eu, eum),
                                                    signed_by(dpa, ci), signed_by(dpb, ci), signed_by(tls, ci)]))
    bc = eum.extensions.get_extension_for_class(x509.BasicConstraints).value
    nc = eum.extensions.get_extension_for_class(x509.NameConstraints).value
    sn = nc.permitted_subtrees[0].value.get_attributes_for_oid(x509.oid.NameOID.SERIAL_NUMBER)[0].value
    R.check("pki %s EUM CA pathlen 0 + nameConstraints" % curve, bc.ca and bc.path_length == 0 and sn == m["eid"][:8])
    eid = eu.subject.get_attributes_for_oid(x509.oid.NameOID.SERIAL_NUMBER)[0].value
    R.check("pki %s eUICC EID" % curve, eid == m["eid"] and int(eid) % 97 == 1)
    san = tls.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    R.check("pki %s TLS SAN" % curve, san.get_values_for_type(x509.DNSName) == [HOST] and
            [r.dotted_string for r in san.get_values_for_type(x509.RegisteredID)] == ["2.999.10"])
    eku = tls.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    R.check("pki %s TLS serverAuth" % curve, x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in list(eku))
    e2 = m["euicc2"]["eid"]
    R.check("pki %s second eUICC" % curve, e2 != m["eid"] and e2[:8] == m["eid"][:8] and int(e2) % 97 == 1)
    R.check("pki %s bad-EID eUICC" % curve, not m["euicc_badeid"]["eid"].startswith(m["eid"][:8]))
    R.check("pki %s key is PKCS#8" % curve,
            open(os.path.join(pki, m["euicc"]["key_pem"])).read().startswith("-----BEGIN PRIVATE KEY-----"))


def write_profiles(work, upp_file, name="profiles.json"):
    spec = [
        {"matching_id": "ST-FULL", "iccid": "8949449999999990023", "cc": None, "spn": "Test Operator",
         "name": "Full Flow", "class": "operational", "upp": os.path.basename(upp_file),
         "replace_keys": False, "notify": ["enable", "disable", "delete"], "eid": None},
        {"matching_id": "ST-CC", "iccid": "8949449999999990031", "cc": "1234", "upp": None, "upp_size": 6000,
         "replace_keys": True, "class": "test", "notify": ["delete"], "notify_combined": True, "ppr": ["ppr1"],
         "owner_mccmnc": "00101"},
        {"matching_id": "ST-CCX", "iccid": "8949449999999990049", "cc": "9999", "cc_max_attempts": 2},
        {"matching_id": "ST-CANCEL", "iccid": "8949449999999990056"},
        {"matching_id": "ST-EID", "iccid": "8949449999999990064", "eid": "89049032123451234512345678901299"},
        {"matching_id": "ST-R", "iccid": "8949449999999990072", "reusable": True, "upp_size": 3000},
        {"matching_id": "", "iccid": "8949449999999990080", "eid": "EIDPLACEHOLDER"},
    ]
    path = os.path.join(work, name)
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


def test_flows(R, work, pki, curve, upp_file):
    """The ES9+ happy path and the business error codes against one server."""
    eu = SoftEuicc(pki)
    prof = write_profiles(work, upp_file, "profiles-%s.json" % curve)
    spec = json.load(open(prof))
    spec[-1]["eid"] = eu.eid
    json.dump(spec, open(prof, "w"))
    srv = Server(work, pki, ["--profiles", prof], name="smdpp-" + curve)
    cli = Es9Client(srv.port, os.path.join(pki, json.load(open(os.path.join(pki, "manifest.json")))["ci"]["cert_pem"]),
                    tls12=(curve == "brp"))
    c = "[%s] " % curve
    try:
        # ---- full download, ES9+ and ES10b calls in SGP.22 order
        ia = initiate(cli, eu)
        R.check(c + "initiateAuthentication ok", ia.ok, ia)
        j = ia.json
        R.check(c + "response headers", ia.headers.get("Content-Type", "").startswith("application/json") and
                ia.headers.get("X-Admin-Protocol", "").startswith("gsma/rsp/v"), ia.headers)
        ss1 = kids(one(base64.b64decode(j["serverSigned1"]), "30")[1])
        R.check(c + "transactionId hex == serverSigned1.80", bytes.fromhex(j["transactionId"]) == ss1["80"][0])
        R.check(c + "serverSigned1 tags", list(ss1) == ["80", "81", "83", "84"], list(ss1))
        R.check(c + "serverAddress", ss1["83"][0] == HOST.encode())
        R.check(c + "euiccCiPKIdToBeUsed 04 14 SKI", base64.b64decode(j["euiccCiPKIdToBeUsed"]) == T("04", eu.ci_ski))
        R.check(c + "serverSignature1 5F37 40", base64.b64decode(j["serverSignature1"])[:3] == H("5F3740"))
        ac = authenticate(cli, eu, ia, "ST-FULL")
        R.check(c + "authenticateClient ok", ac.ok, ac)
        md = base64.b64decode(ac.json["profileMetadata"])
        mk = kids(one(md, "BF25")[1])
        R.check(c + "metadata iccid/spn/name", mk["5A"][0] == swap_bcd("8949449999999990023") and
                mk["91"][0] == b"Test Operator" and mk["92"][0] == b"Full Flow", md.hex())
        R.check(c + "metadata no 95 for operational", "95" not in mk)
        b6 = [kids(v) for t, v, _ in tlvs(mk["B6"][0])]
        R.check(c + "metadata B6 entries", [e["80"][0] for e in b6] == [H("0640"), H("0520"), H("0410")] and
                all(e["81"][0] == HOST.encode() for e in b6), mk["B6"][0].hex())
        ss2 = base64.b64decode(ac.json["smdpSigned2"])
        R.check(c + "smdpSigned2 = 30{80 txid, 01 01 00}", ss2 == T("30", T("80", ss1["80"][0]), H("010100")), ss2.hex())
        bp = get_bpp(cli, eu, ac)
        R.check(c + "getBoundProfilePackage ok", bp.ok, bp)
        bpp = base64.b64decode(bp.json["boundProfilePackage"])
        res = eu.load_bpp(bpp)
        R.check(c + "BPP decrypts, UPP round-trips", res["upp"] == open(upp_file, "rb").read())
        R.check(c + "BPP 88 metadata == profileMetadata", res["metadata"] == md)
        R.check(c + "86 segments <= 1020 B, full ones 1020", all(n <= 1020 for n in res["segments86"]) and
                res["segments86"][0] == 1020 and len(res["segments86"]) >= 3, res["segments86"])
        R.check(c + "no A2 without replace_keys", not res.get("replaced_keys"))
        st = cli.state()
        R.check(c + "order downloaded", [o["state"] for o in st["orders"] if o["matching_id"] == "ST-FULL"] ==
                ["downloaded"])
        r = notify(cli, eu.pir(ok=True))
        R.check(c + "install notification 204", r.status == 204 and r.raw == b"", r)
        r = notify(cli, eu.other_notification(b"\x04\x10", swap_bcd("8949449999999990023"), HOST))
        R.check(c + "delete notification 204", r.status == 204, r)
        r = notify(cli, eu.other_notification(b"\x06\x40", swap_bcd("8949449999999990023"), HOST, corrupt=True))
        R.check(c + "bad notification still 204", r.status == 204, r)
        n = events(srv, "notification")
        R.check(c + "install notification recorded valid",
                n and n[0].get("type") == "install" and n[0]["valid"] is True and n[0]["result"] == "success"
                and n[0]["iccid"] == "8949449999999990023" and n[0]["seq"] == 1, n[:1])
        R.check(c + "delete notification recorded valid", len(n) > 1 and n[1].get("type") == "delete" and
                n[1]["valid"] is True and n[1]["seq"] == 2 and n[1]["eid"] == eu.eid, n[1:2])
        R.check(c + "corrupt notification recorded invalid", len(n) > 2 and n[2]["valid"] is False and
                n[2]["type"] == "enable", n[2:3])
        st = cli.state()
        R.check(c + "order installed", [o["state"] for o in st["orders"] if o["matching_id"] == "ST-FULL"] ==
                ["installed"])
        # replay of a delivered transaction, reuse of a used matchingId
        r = cli.es9("getBoundProfilePackage", {"transactionId": ac.json["transactionId"],
                                               "prepareDownloadResponse": b64e(eu.prepare_download(ac.json))})
        R.check(c + "replayed txid -> 8.10.1/3.9", r.status == 200 and r.code == "8.10.1/3.9", r)
        ia, ac = upto_auth(cli, eu, "ST-FULL")
        R.check(c + "used matchingId -> 8.2.6/3.8", ac.code == "8.2.6/3.8", ac)

        # ---- confirmation code + ReplaceSessionKeys order
        ia, ac = upto_auth(cli, eu, "ST-CC")
        R.check(c + "CC order: ccRequiredFlag FF", base64.b64decode(ac.json["smdpSigned2"]).endswith(H("0101FF")))
        mk = kids(one(base64.b64decode(ac.json["profileMetadata"]), "BF25")[1])
        R.check(c + "metadata 95 class test / combined B6 / 99 / B7", mk.get("95", (None,))[0] == b"\x00" and
                kids(one(mk["B6"][0], "30")[1])["80"][0] == H("0410") and mk["99"][0] == H("0640") and
                mk["B7"][0] == T("80", H("00F110")), {k: v[0].hex() for k, v in mk.items()})
        r = get_bpp(cli, eu, ac)
        R.check(c + "missing hashCc -> 8.2.7/2.2", r.code == "8.2.7/2.2", r)
        r = get_bpp(cli, eu, ac, cc="0000")
        R.check(c + "wrong CC -> 8.2.7/3.8", r.code == "8.2.7/3.8", r)
        r = get_bpp(cli, eu, ac, cc="1234")
        R.check(c + "right CC -> BPP", r.ok, r)
        res = eu.load_bpp(base64.b64decode(r.json["boundProfilePackage"]))
        R.check(c + "ReplaceSessionKeys (A2) BPP decrypts", res.get("replaced_keys") and
                res["upp"][:2] == H("A0") + res["upp"][1:2] and H("830A 89494499999999900 31F") in res["upp"] and
                len(res["upp"]) == 6000, len(res.get("upp", b"")))
        r = notify(cli, eu.pir(ok=False, cmd=5, reason=8))
        n = events(srv, "notification")[-1]
        R.check(c + "error PIR recorded", n["valid"] is True and n["result"] == "error" and n["bppCommandId"] == 5
                and n["errorReason"] == 8, n)
        st = {o["matching_id"]: o for o in cli.state()["orders"]}
        R.check(c + "failed install releases the order", st["ST-CC"]["state"] == "released", st["ST-CC"])

        # ---- CC retries exceeded
        ia, ac = upto_auth(cli, eu, "ST-CCX")
        r1 = get_bpp(cli, eu, ac, cc="0000")
        r2 = get_bpp(cli, eu, ac, cc="0001")
        R.check(c + "CC retries exceeded -> 8.2.7/6.4", r1.code == "8.2.7/3.8" and r2.code == "8.2.7/6.4", (r1, r2))
        ia, ac = upto_auth(cli, eu, "ST-CCX")
        R.check(c + "terminated order -> 8.8.5/6.4", ac.code == "8.8.5/6.4", ac)

        # ---- cancelSession
        ia, ac = upto_auth(cli, eu, "ST-CANCEL")
        txid = ac.json["transactionId"]
        r = cancel(cli, eu, txid, reason=0)
        R.check(c + "cancelSession ok", r.ok, r)
        cs = events(srv, "cancelSession")
        R.check(c + "cancelSession recorded", cs and cs[-1]["valid"] is True and cs[-1]["reason"] == 0 and
                cs[-1]["transactionId"] == txid, cs)
        r = get_bpp(cli, eu, ac)
        R.check(c + "after cancel -> 8.10.1/3.9", r.code == "8.10.1/3.9", r)
        r = cancel(cli, eu, txid)
        R.check(c + "cancel twice -> 8.10.1/3.9", r.code == "8.10.1/3.9", r)
        ia, ac = upto_auth(cli, eu, "ST-CANCEL")
        r = get_bpp(cli, eu, ac)
        R.check(c + "cancel after BPP delivery ok", r.ok and cancel(cli, eu, ac.json["transactionId"], 5).ok, r)
        ia, ac = upto_auth(cli, eu, "ST-CANCEL")
        eu.s["txid"] = os.urandom(16)
        r = cancel(cli, eu, ac.json["transactionId"])
        R.check(c + "cancel signed txid mismatch -> 8.10.1/3.9", r.code == "8.10.1/3.9", r)
        eu.s["txid"] = bytes.fromhex(ac.json["transactionId"])
        r = cli.es9("cancelSession", {"transactionId": ac.json["transactionId"],
                                      "cancelSessionResponse": b64e(eu.cancel(1, oid=H("88370B")))})
        R.check(c + "cancel wrong smdpOid -> 8.8/3.10", r.code == "8.8/3.10", r)
        R.check(c + "cancel ok after refused ones", cancel(cli, eu, ac.json["transactionId"], 1).ok)

        # ---- EID-only order (no matchingId), EID-bound order
        ia, ac = upto_auth(cli, eu, None)
        R.check(c + "EID-bound order without matchingId", ac.ok and kids(one(base64.b64decode(
            ac.json["profileMetadata"]), "BF25")[1])["5A"][0] == swap_bcd("8949449999999990080"), ac)
        cancel(cli, eu, ac.json["transactionId"])
        ia, ac = upto_auth(cli, eu, "ST-EID")
        R.check(c + "order for another EID -> 8.1.1/3.8", ac.code == "8.1.1/3.8", ac)

        # ---- initiateAuthentication errors
        r = initiate(cli, eu, address="other.example.com")
        R.check(c + "wrong smdpAddress -> 8.8.1/3.8", r.code == "8.8.1/3.8", r)
        r = initiate(cli, eu, address=HOST.upper())
        R.check(c + "smdpAddress case-insensitive", r.ok, r)
        r = initiate(cli, eu, ski=b"\x11" * 20)
        R.check(c + "unknown CI -> 8.8.2/3.1", r.code == "8.8.2/3.1", r)
        r = cli.es9("initiateAuthentication", {"smdpAddress": HOST, "euiccChallenge": b64e(T("80", os.urandom(16))),
                                               "euiccInfo1": b64e(eu.info1())})
        R.check(c + "euiccChallenge as TLV refused", r.status == 200 and not r.ok, r)

        # ---- authenticateClient errors
        ia, ac = upto_auth(cli, eu, "NO-SUCH-ID")
        R.check(c + "unknown matchingId -> 8.2.6/3.8", ac.code == "8.2.6/3.8", ac)
        r = cli.es9("authenticateClient", {"transactionId": "00" * 16, "authenticateServerResponse": b64e(b"\xBF\x38\x00")})
        R.check(c + "unknown transactionId -> 8.10.1/3.9", r.code == "8.10.1/3.9", r)
        ia = initiate(cli, eu)
        ac = authenticate(cli, eu, ia, "ST-R", sign_corrupt=True)
        R.check(c + "bad euiccSignature1 -> 8.1/6.1", ac.code == "8.1/6.1", ac)
        for entry, want in (("euicc_badeid", "8.1.4/6.1"), ("euicc_expired", "8.1.3/6.3")):
            bad = SoftEuicc(pki, entry)
            ia = initiate(cli, bad)
            ac = authenticate(cli, bad, ia, "ST-R")
            R.check(c + "%s -> %s" % (entry, want), ac.code == want, ac)
        other = SoftEuicc(pki, "euicc2")
        ia, ac = upto_auth(cli, other, "ST-R")
        R.check(c + "second eUICC accepted", ac.ok, ac)
        bp = get_bpp(cli, other, ac)
        R.check(c + "second eUICC download", bp.ok and other.load_bpp(base64.b64decode(
            bp.json["boundProfilePackage"]))["upp"][:1] == b"\xA0", bp)
        ia, ac = upto_auth(cli, eu, "ST-R")
        ac2 = authenticate(cli, eu, ia, "ST-R")
        R.check(c + "authenticateClient twice -> 8.10.1/3.9", ac2.code == "8.10.1/3.9", ac2)

        # ---- HTTP layer
        r = cli.es9("initiateAuthentication", {}, headers={"Content-Type": "application/json"})
        R.check(c + "missing X-Admin-Protocol -> 400", r.status == 400, r)
        r = cli.es9("initiateAuthentication", {}, headers={"Content-Type": "text/plain",
                                                            "X-Admin-Protocol": "gsma/rsp/v2.2.0"})
        R.check(c + "bad Content-Type -> 400", r.status == 400, r)
        r = cli.es9("initiateAuthentication", None, raw=b"{not json")
        R.check(c + "invalid JSON -> 400", r.status == 400, r)
        r = cli.es9("noSuchFunction", {})
        R.check(c + "unknown function -> 404", r.status == 404, r)
        r = cli.es9("initiateAuthentication", {"euiccChallenge": "AA=="})
        R.check(c + "missing field -> Failed", r.status == 200 and r.fes.get("status") == "Failed", r)
        R.check(c + "Expect: 100-continue answered at once", expect_100(cli), "")

        # ---- request log
        recs = srv.records()
        fns = [x.get("function") for x in recs if x.get("event") == "request"]
        R.check(c + "log has every function", set(fns) >= {"initiateAuthentication", "authenticateClient",
                                                            "getBoundProfilePackage", "handleNotification",
                                                            "cancelSession"})
        R.check(c + "log records codes", any(x.get("subjectCode") == "8.2.6" for x in recs))
        if curve == "nist":
            test_misbehave(R, srv, cli, eu, c)
        else:
            test_misbehave(R, srv, cli, eu, c, quick=True)
    finally:
        srv.stop()


def expect_100(cli):
    """libcurl sends "Expect: 100-continue" for bodies > 1 KiB: the server must
    answer "100 Continue" promptly (not after curl's 1 s fallback)."""
    body = json.dumps({"transactionId": "00", "authenticateServerResponse": "A" * 3000}).encode()
    raw = socket.create_connection(("127.0.0.1", cli.port), 5)
    s = cli.ctx.wrap_socket(raw, server_hostname=cli.host)
    try:
        s.sendall(("POST /gsma/rsp2/es9plus/authenticateClient HTTP/1.1\r\nHost: %s\r\n"
                   "Content-Type: application/json\r\nX-Admin-Protocol: gsma/rsp/v2.2.0\r\n"
                   "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (cli.host, len(body))).encode())
        s.settimeout(0.5)
        first = s.recv(100)
        s.settimeout(5)
        s.sendall(body)
        rest = b""
        while b"\r\n\r\n" not in rest:
            rest += s.recv(4096)
        return first.startswith(b"HTTP/1.1 100") and b"200" in rest.split(b"\r\n")[0]
    except (socket.timeout, TimeoutError):
        return False
    finally:
        s.close()


def test_misbehave(R, srv, cli, eu, c, quick=False):
    """Misbehaviour modes, switched at run time with POST /test/misbehave."""
    def mb(spec):
        cli.admin("/test/misbehave", spec)

    def bpp_error(mode, **p):
        mb(dict(mode=mode, **p))
        ia, ac = upto_auth(cli, eu, "ST-R")
        r = get_bpp(cli, eu, ac)
        mb({"mode": "none"})
        if not r.ok:
            return "http %s %s" % (r.status, r.code)
        try:
            eu.load_bpp(base64.b64decode(r.json["boundProfilePackage"]))
            return "installed"
        except BppError as e:
            return (e.cmd, e.reason)
        except ValueError as e:
            return "malformed: %s" % e
        finally:
            cancel(cli, eu, ac.json["transactionId"], 5)

    def bpp_obj(mode, **p):
        mb(dict(mode=mode, **p))
        ia, ac = upto_auth(cli, eu, "ST-R")
        r = get_bpp(cli, eu, ac)
        mb({"mode": "none"})
        return ac, r

    # -- BPP integrity
    R.check(c + "tampered-segment -> MAC error in 86", bpp_error("tampered-segment") == (5, 8))
    R.check(c + "wrong-mac -> MAC error in 87", bpp_error("wrong-mac") == (1, 8))
    if not quick:
        R.check(c + "wrong-mac-88 -> MAC error in 88", bpp_error("wrong-mac-88") == (2, 8))
        R.check(c + "wrong-signature-bpp -> invalidSignature", bpp_error("wrong-signature-bpp") == (0, 2))
        R.check(c + "other-euicc -> invalidSignature", bpp_error("other-euicc") == (0, 2))
        R.check(c + "other-euicc-mac -> MAC error", bpp_error("other-euicc-mac") == (1, 8))
        R.check(c + "other-eid -> MAC error", bpp_error("other-eid") == (1, 8))
        res = bpp_error("truncated-bpp")
        R.check(c + "truncated-bpp -> malformed", isinstance(res, str) and res.startswith("malformed"), res)
        ac, r = bpp_obj("metadata-mismatch")
        res = eu.load_bpp(base64.b64decode(r.json["boundProfilePackage"]))
        R.check(c + "metadata-mismatch", res["metadata"] != base64.b64decode(ac.json["profileMetadata"]))
        cancel(cli, eu, ac.json["transactionId"], 4)
        ac, r = bpp_obj("iccid-mismatch")
        res = eu.load_bpp(base64.b64decode(r.json["boundProfilePackage"]))
        R.check(c + "iccid-mismatch", H("830A 8949449999999990072F") not in res["upp"] and
                H("830A 8949449999999990073F") in res["upp"])
        cancel(cli, eu, ac.json["transactionId"], 5)
        # replay: a later session gets the earlier session's BPP
        ia, ac = upto_auth(cli, eu, "ST-R")
        first = get_bpp(cli, eu, ac)
        cancel(cli, eu, ac.json["transactionId"], 1)
        R.check(c + "replay -> invalidTransactionId", bpp_error("replay") == (0, 3))
        ac, r = bpp_obj("replay")
        R.check(c + "replay: same BPP re-delivered", r.ok and r.json["boundProfilePackage"] ==
                first.json["boundProfilePackage"], r)
        mb({"mode": "replay"})
        r2 = cli.es9("getBoundProfilePackage", {"transactionId": ac.json["transactionId"],
                                                "prepareDownloadResponse": b64e(eu.prepare_download(ac.json))})
        mb({"mode": "none"})
        R.check(c + "replay: used txid accepted again", r2.ok and r2.json["boundProfilePackage"] ==
                r.json["boundProfilePackage"], r2)
        cancel(cli, eu, ac.json["transactionId"], 1)

    # -- authentication-phase modes (checked by the eUICC side)
    def auth_error(mode, **p):
        mb(dict(mode=mode, **p))
        ia = initiate(cli, eu)
        mb({"mode": "none"})
        try:
            eu.authenticate_server(ia.json, "ST-R")
            return "accepted"
        except EuiccError as e:
            return e.code
    R.check(c + "wrong-signature-1 -> invalidSignature", auth_error("wrong-signature-1") == 2)
    if not quick:
        R.check(c + "bad-euicc-challenge -> euiccChallengeMismatch", auth_error("bad-euicc-challenge") == 6)
        mb({"mode": "txid-mismatch"})
        ia = initiate(cli, eu)
        mb({"mode": "none"})
        R.check(c + "txid-mismatch", bytes.fromhex(ia.json["transactionId"]) !=
                kids(one(base64.b64decode(ia.json["serverSigned1"]))[1])["80"][0])
        mb({"mode": "wrong-server-address"})
        ia = initiate(cli, eu)
        mb({"mode": "none"})
        R.check(c + "wrong-server-address", kids(one(base64.b64decode(ia.json["serverSigned1"]))[1])["83"][0] !=
                HOST.encode())
        mb({"mode": "wrong-signature-2"})
        ia, ac = upto_auth(cli, eu, "ST-R")
        mb({"mode": "none"})
        try:
            eu.prepare_download(ac.json)
            res = "accepted"
        except EuiccError as e:
            res = e.code
        R.check(c + "wrong-signature-2 -> invalidSignature", res == 2, res)
        cancel(cli, eu, ac.json["transactionId"], 1)
        mb({"mode": "unknown-matching-id"})
        ia, ac = upto_auth(cli, eu, "ST-R")
        mb({"mode": "none"})
        R.check(c + "unknown-matching-id -> 8.2.6/3.8", ac.code == "8.2.6/3.8", ac)
        mb({"mode": "expired-transaction"})
        ia, ac = upto_auth(cli, eu, "ST-R")
        mb({"mode": "none"})
        R.check(c + "expired-transaction -> Expired", ac.fes.get("status") == "Expired", ac)
        mb({"mode": "expired-transaction", "functions": ["getBoundProfilePackage"]})
        ia, ac = upto_auth(cli, eu, "ST-R")
        r = get_bpp(cli, eu, ac)
        r2 = get_bpp(cli, eu, ac)
        mb({"mode": "none"})
        R.check(c + "expired-transaction on getBPP, stays expired", ac.ok and r.fes.get("status") == "Expired" and
                r2.fes.get("status") == "Expired", (r, r2))
        mb({"mode": "failed-status", "functions": ["getBoundProfilePackage"], "subject": "8.2", "reason": "1.2"})
        ia, ac = upto_auth(cli, eu, "ST-R")
        r = get_bpp(cli, eu, ac)
        mb({"mode": "none"})
        R.check(c + "failed-status injected", r.code == "8.2/1.2", r)
        cancel(cli, eu, ac.json["transactionId"], 1)

    # -- HTTP-level modes
    mb({"mode": "malformed-json", "functions": ["authenticateClient"]})
    ia, ac = upto_auth(cli, eu, "ST-R")
    mb({"mode": "none"})
    R.check(c + "malformed-json", ia.ok and ac.status == 200 and ac.json is None and ac.raw.startswith(b"{"), ac)
    mb({"mode": "invalid-base64", "functions": ["getBoundProfilePackage"]})
    ia, ac = upto_auth(cli, eu, "ST-R")
    r = get_bpp(cli, eu, ac)
    mb({"mode": "none"})
    try:
        base64.b64decode(r.json["boundProfilePackage"], validate=True)
        res = "decoded"
    except Exception:
        res = "invalid"
    R.check(c + "invalid-base64", r.ok and res == "invalid", r)
    cancel(cli, eu, ac.json["transactionId"], 1)
    mb({"mode": "http-500", "count": 1})
    r1 = initiate(cli, eu)
    r2 = initiate(cli, eu)
    R.check(c + "http-500 once (count=1)", r1.status == 500 and r2.ok, (r1, r2))
    if quick:
        return
    mb({"mode": "http-status", "status": 503})
    r = initiate(cli, eu)
    mb({"mode": "none"})
    R.check(c + "http-status 503", r.status == 503, r)
    mb({"mode": "redirect"})
    r = initiate(cli, eu)
    mb({"mode": "none"})
    R.check(c + "redirect 302", r.status == 302 and r.headers.get("Location", "").startswith("https://redirect."), r)
    mb("stall:seconds=5,functions=initiateAuthentication")
    t0 = time.monotonic()
    try:
        cli.es9("initiateAuthentication", {
            "smdpAddress": HOST, "euiccChallenge": b64e(eu.get_challenge()), "euiccInfo1": b64e(eu.info1())},
            timeout=1)
        res = "answered"
    except (socket.timeout, TimeoutError):
        res = "timeout"
    mb({"mode": "none"})
    time.sleep(0.5)
    st = [x for x in srv.records() if x.get("misbehave") == "stall"]
    R.check(c + "stall -> client timeout, server notices disconnect", res == "timeout" and st and
            "stall_aborted_after" in st[-1] and time.monotonic() - t0 < 4, (res, st[-1:]))
    mb({"mode": "trickle", "interval": 0.002, "functions": ["initiateAuthentication"]})
    t0 = time.monotonic()
    r = initiate(cli, eu)
    mb({"mode": "none"})
    R.check(c + "trickle delivers slowly but intact", r.ok and time.monotonic() - t0 > 0.5, r)
    mb({"mode": "oversized-body", "bytes": 3 * 1024 * 1024})
    r = initiate(cli, eu)
    mb({"mode": "none"})
    R.check(c + "oversized-body", r.status == 200 and len(r.raw) == 3 * 1024 * 1024 and r.json is None, len(r.raw))
    # per-order misbehaviour (added at run time)
    cli.admin("/test/orders", [{"matching_id": "ST-PER-ORDER", "iccid": "8949449999999990098", "reusable": True,
                                "misbehave": {"mode": "tampered-segment"}}])
    ia, ac = upto_auth(cli, eu, "ST-PER-ORDER")
    r = get_bpp(cli, eu, ac)
    try:
        eu.load_bpp(base64.b64decode(r.json["boundProfilePackage"]))
        res = "installed"
    except BppError as e:
        res = (e.cmd, e.reason)
    R.check(c + "per-order misbehave", res == (5, 8), res)
    st = cli.state()
    R.check(c + "GET /test/state", st["misbehave"] is None and any(o["matching_id"] == "ST-PER-ORDER"
                                                                   for o in st["orders"]))
    cli.admin("/test/reset")
    st = cli.state()
    R.check(c + "POST /test/reset", all(o["state"] == "released" for o in st["orders"]) and st["sessions"] == 0)
    # concurrency: several downloads at once
    errs = []

    def worker():
        try:
            e = SoftEuicc(srv.pki_dir)
            ia, ac = upto_auth(cli, e, "ST-R")
            r = get_bpp(cli, e, ac)
            e.load_bpp(base64.b64decode(r.json["boundProfilePackage"]))
        except Exception as ex:       # noqa: BLE001
            errs.append(repr(ex))
    th = [threading.Thread(target=worker) for _ in range(6)]
    [t.start() for t in th]
    [t.join(60) for t in th]
    R.check(c + "6 concurrent downloads", not errs, errs)


def test_tls(R, work, pki, curve):
    """Negative TLS certificates (ES9+ TLS, docs/trust.md), and the ttl expiry."""
    m = json.load(open(os.path.join(pki, "manifest.json")))
    ca = os.path.join(pki, m["ci"]["cert_pem"])
    key = os.path.join(pki, m["dptls"]["key_pem"])
    for entry, want in (("wronghost_tls", "match"), ("untrusted_tls", "verify failed"),
                        ("expired_tls", "expired")):
        srv = Server(work, pki, ["--tls-cert", os.path.join(pki, m[entry]["cert_pem"]), "--tls-key", key],
                     name="tls-%s-%s" % (curve, entry))
        try:
            cli = Es9Client(srv.port, ca, tls12=(curve == "brp"))
            try:
                cli.state()
                res = "connected"
            except ssl.SSLError as e:
                res = str(e)
            R.check("[%s] TLS %s rejected" % (curve, entry), want in res.lower() or
                    (want == "match" and "hostname" in res.lower()), res)
            time.sleep(0.3)
            ev = [x for x in srv.records() if x.get("event") == "tls-handshake-failed"]
            R.check("[%s] TLS %s logged by server" % (curve, entry), bool(ev))
        finally:
            srv.stop()
    srv = Server(work, pki, ["--ttl", "1"], name="ttl-" + curve)
    try:
        cli = Es9Client(srv.port, ca, tls12=(curve == "brp"))
        eu = SoftEuicc(pki)
        ia = initiate(cli, eu)
        time.sleep(1.3)
        ac = authenticate(cli, eu, ia, "ESIMCTL-TEST-1")
        R.check("[%s] ttl -> Expired" % curve, ac.fes.get("status") == "Expired" and ac.code == "8.10.1/3.9", ac)
        ac = authenticate(cli, eu, ia, "ESIMCTL-TEST-1")
        R.check("[%s] expired stays Expired" % curve, ac.fes.get("status") == "Expired", ac)
        # default orders (no --profiles)
        ia, ac = upto_auth(cli, eu, "ESIMCTL-TEST-1")
        R.check("[%s] default order ESIMCTL-TEST-1" % curve, ac.ok, ac)
    finally:
        srv.stop()


def test_sgp26(R, work, sgp26):
    """One NIST download against the GSMA SGP.26 tree + a TS.48 package (internal use)."""
    upps = sorted(f for f in os.listdir(os.path.join(sgp26, "upp")) if f.endswith("-UNIQUE.der"))
    mid = upps[0][:-4]
    tls = os.path.join(sgp26, "DPtls", "CERT_S_SM_DP_TLS_NIST_osmocom-2035.pem")
    srv = Server(work, sgp26, ["--curve", "nist", "--upp-dir", os.path.join(sgp26, "upp"), "--tls-cert", tls,
                               "--tls-key", os.path.join(sgp26, "DPtls", "SK_S_SM_DP_TLS_NIST.pem")],
                 name="sgp26")
    try:
        # the SGP.26 tree has no manifest: build the eUICC by hand
        fake = os.path.join(work, "sgp26-euicc")
        os.makedirs(fake, exist_ok=True)
        man = {"euicc": {"key_pem": os.path.join(sgp26, "eUICC", "SK_EUICC_ECDSA_NIST.pem"),
                         "cert_der": os.path.join(sgp26, "eUICC", "CERT_EUICC_ECDSA_NIST.der"),
                         "eid": "89049032123451234512345678901235"},
               "eum": {"cert_der": os.path.join(sgp26, "EUM", "CERT_EUM_ECDSA_NIST.der")},
               "ci": {"cert_der": os.path.join(sgp26, "CertificateIssuer", "CERT_CI_ECDSA_NIST.der"),
                      "ski": "F54172BDF98A95D65CBEB88A38A1C11D800A85C3"}}
        json.dump(man, open(os.path.join(fake, "manifest.json"), "w"))
        eu = SoftEuicc(fake)
        cli = Es9Client(srv.port, os.path.join(sgp26, "CertificateIssuer", "CERT_CI_ECDSA_NIST.pem"))
        ia, ac = upto_auth(cli, eu, mid)
        R.check("[sgp26] authenticateClient", ac.ok, ac)
        r = get_bpp(cli, eu, ac)
        res = eu.load_bpp(base64.b64decode(r.json["boundProfilePackage"]))
        R.check("[sgp26] TS.48 UPP round-trips", res["upp"] == open(os.path.join(sgp26, "upp", upps[0]), "rb").read())
        R.check("[sgp26] install notification", notify(cli, eu.pir()).status == 204 and
                events(srv, "notification")[-1]["valid"] is True)
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("-k", dest="filt", default=None, help="only run test groups whose name contains this")
    ap.add_argument("--keep", default=None, help="keep the work directory here (PKIs, logs)")
    ap.add_argument("--sgp26", default=None, help="also run against an SGP.26 tree (internal data)")
    a = ap.parse_args()
    R = Results(a.verbose, a.filt)
    work = a.keep or _TMP
    os.makedirs(work, exist_ok=True)
    try:
        R.run("vectors", test_vectors, R)
        R.run("mkupp", test_mkupp, R, work)
        upp_file = os.path.join(work, "full.der")
        subprocess.check_call([PY, os.path.join(HERE, "mkupp.py"), upp_file, "--iccid", "8949449999999990023",
                               "--size", "4500", "--seed", "1"])
        for curve in ("nist", "brp"):
            pki = os.path.join(work, "pki-" + curve)
            subprocess.check_call([PY, os.path.join(HERE, "mkpki.py"), pki, "--curve", curve, "--all"])
            R.run("pki-" + curve, test_pki, R, pki, curve)
            R.run("flows-" + curve, test_flows, R, work, pki, curve, upp_file)
            R.run("tls-" + curve, test_tls, R, work, pki, curve)
        if a.sgp26:
            R.run("sgp26", test_sgp26, R, work, a.sgp26)
    finally:
        shutil.rmtree(_TMP, ignore_errors=True)     # with --keep, WORK is elsewhere and stays
    if R.failures:
        print("failed: " + ", ".join(R.failures))
    print("%d passed, %d failed" % (R.passed, R.failed))
    return 1 if R.failed or R.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
