#!/usr/bin/python3
"""smdpp.py -- independent test SM-DP+ (ES9+ server) for the esimctl test suite.

Run with Debian's interpreter (python3-cryptography 38.x):

    /usr/bin/python3 tests/smdp/smdpp.py --pki DIR --port N [--host NAME]
        [--tls-cert PEM --tls-key PEM] [--profiles SPEC.json] [--upp-dir DIR]
        [--state FILE] [--log FILE] [--misbehave MODE[:k=v,...]|JSON]
        [--ttl SECONDS] [--cc-max-attempts N] [--admin-port N] [--verbose]

It prints "READY <port>" on stdout once it listens on 127.0.0.1 (use --port 0
for a free port).  See README.md next to this file for the profiles SPEC, the
misbehaviour modes, the admin endpoints and the log format.

This is written from SGP.22 v2.x as the public implementations describe it;
section numbers below are SGP.22's unless another document is named.  It
shares no code with the C client on purpose: the DER codec, the ECDSA format
conversion, the KDF and SCP03t below are all local, so that the client and the
server cannot agree on the same mistake.

Layout of this file:
    1. DER codec                      5. download orders, UPP, metadata
    2. identifiers (ICCID, EID)       6. BPP builder (SGP.22 2.5.4)
    3. crypto (ECDSA r||s, KDF,       7. misbehaviour modes
       SCP03t)                        8. the ES9+ functions (SGP.22 5.6)
    4. PKI loading and cert checks    9. HTTP(S) layer, admin endpoints, main
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import json
import os
import select
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import cmac, hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkupp  # noqa: E402  (synthetic UPP generator, same directory)

ES9_PREFIX = "/gsma/rsp2/es9plus/"
ES9_FUNCTIONS = ("initiateAuthentication", "authenticateClient", "getBoundProfilePackage",
                 "handleNotification", "cancelSession")
ADMIN_PROTOCOL = "gsma/rsp/v2.2.0"
DEFAULT_HOST = "testsmdpplus1.example.com"
MAX_REQUEST_BODY = 2 * 1024 * 1024

OID_ROLE_EUICC = "2.23.146.1.2.1.1"
OID_ROLE_EUM = ("2.23.146.1.2.1.2", "2.23.146.1.2.1.0.0.0")    # older / newer EUM variants (SGP.22 cert profiles)
OID_PERMITTED_EINS = "2.23.146.1.2.2.0"


# ==========================================================================
# 1. DER codec (ITU-T X.690 DER: tags up to 2 bytes here, lengths 1-4 bytes)
# ==========================================================================

class DerError(ValueError):
    pass


class Tlv:
    """One decoded TLV.  tag is an int (0xBF38, 0x5F37, 0x80 ...), value the
    contents, raw the exact encoded bytes (tag + length + value) as received:
    signatures are always checked over raw slices, never over re-encodings
    (SGP.22 signs encoded bytes)."""
    __slots__ = ("tag", "value", "raw")

    def __init__(self, tag, value, raw):
        self.tag, self.value, self.raw = tag, value, raw

    @property
    def constructed(self):
        first = self.tag.to_bytes((self.tag.bit_length() + 7) // 8 or 1, "big")[0]
        return bool(first & 0x20)

    def children(self):
        return der_parse_all(self.value)

    def find(self, tag):
        for c in self.children():
            if c.tag == tag:
                return c
        return None

    def find_all(self, tag):
        return [c for c in self.children() if c.tag == tag]

    def __repr__(self):
        return "Tlv(%X, %d bytes)" % (self.tag, len(self.value))


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der_tlv(tag, value):
    return tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big") + der_len(len(value)) + bytes(value)


def der_read(buf, off=0):
    """Decode one TLV at OFF -> (Tlv, next offset).  Definite lengths only."""
    start = off
    if off >= len(buf):
        raise DerError("no data")
    first = buf[off]
    off += 1
    if first & 0x1F == 0x1F:
        while True:
            if off >= len(buf):
                raise DerError("truncated tag")
            b = buf[off]
            off += 1
            if not b & 0x80:
                break
            if off - start > 3:
                raise DerError("tag too long")
    tag = int.from_bytes(buf[start:off], "big")
    if off >= len(buf):
        raise DerError("missing length")
    n = buf[off]
    off += 1
    if n == 0x80:
        raise DerError("indefinite length not allowed")
    if n & 0x80:
        k = n & 0x7F
        if k > 4 or off + k > len(buf):
            raise DerError("bad length field")
        n = int.from_bytes(buf[off:off + k], "big")
        off += k
    if off + n > len(buf):
        raise DerError("TLV %X: length %d overruns buffer" % (tag, n))
    return Tlv(tag, bytes(buf[off:off + n]), bytes(buf[start:off + n])), off + n


def der_parse_all(buf):
    out, off = [], 0
    while off < len(buf):
        t, off = der_read(buf, off)
        out.append(t)
    return out


def der_parse_single(buf, expect_tag=None):
    t, off = der_read(buf, 0)
    if off != len(buf):
        raise DerError("%d trailing bytes after TLV %X" % (len(buf) - off, t.tag))
    if expect_tag is not None and t.tag != expect_tag:
        raise DerError("expected tag %X, got %X" % (expect_tag, t.tag))
    return t


def der_int(v):
    """INTEGER contents, minimal two's complement (ITU-T X.690 8.3.2)."""
    n = max(1, (v.bit_length() + 8) // 8) if v >= 0 else max(1, ((-v - 1).bit_length() + 8) // 8)
    return v.to_bytes(n, "big", signed=True)


def der_bitstring(bits):
    """Named-bit BIT STRING contents from a set of bit numbers (bit 0 = MSB of
    the first byte); DER drops trailing zero bits (ITU-T X.690 11.2.2)."""
    if not bits:
        return b"\x00"
    nbits = max(bits) + 1
    nbytes = (nbits + 7) // 8
    val = bytearray(nbytes)
    for b in bits:
        val[b // 8] |= 0x80 >> (b % 8)
    return bytes([nbytes * 8 - nbits]) + bytes(val)


def bitstring_bits(content):
    if not content:
        raise DerError("empty BIT STRING")
    unused, data = content[0], content[1:]
    return {i for i in range(len(data) * 8 - unused) if data[i // 8] & (0x80 >> (i % 8))}


def oid_encode(dotted):
    arcs = [int(x) for x in dotted.split(".")]
    vals = [arcs[0] * 40 + arcs[1]] + arcs[2:]
    out = bytearray()
    for v in vals:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def oid_decode(content):
    vals, cur = [], 0
    for b in content:
        cur = (cur << 7) | (b & 0x7F)
        if not b & 0x80:
            vals.append(cur)
            cur = 0
    if not vals:
        raise DerError("empty OID")
    first = vals[0]
    head = [first // 40, first % 40] if first < 80 else [2, first - 80]
    return ".".join(str(x) for x in head + vals[1:])


# ==========================================================================
# 2. Identifiers (ETSI TS 102 221 13.2, GSMA SGP.29)
# ==========================================================================

def iccid_to_swapped_bcd(iccid):
    """ICCID -> 10 bytes swapped-nibble BCD with F padding (tag 5A, ETSI TS 102 221 13.2)."""
    if not (iccid.isdigit() and 18 <= len(iccid) <= 20):
        raise ValueError("ICCID must be 18..20 digits: %r" % iccid)
    s = iccid.ljust(20, "F")
    return bytes(int(s[i + 1] + s[i], 16) for i in range(0, 20, 2))


def iccid_from_swapped_bcd(b):
    return "".join("%X%X" % (x & 0x0F, x >> 4) for x in b).rstrip("F")


def eid_to_bytes(eid):
    """32-digit EID -> 16 bytes plain BCD (SGP.22 5.7.20 GetEID)."""
    if not (len(eid) == 32 and eid.isdigit()):
        raise ValueError("bad EID %r" % eid)
    return bytes.fromhex(eid)


def mccmnc_bytes(mccmnc):
    """'00101' / '001001' -> 3 bytes TS 24.008 PLMN coding (profileOwner B7/80)."""
    mcc, mnc = mccmnc[:3], mccmnc[3:]
    m3 = mnc[2] if len(mnc) == 3 else "F"
    return bytes.fromhex(mcc[1] + mcc[0] + m3 + mcc[2] + mnc[1] + mnc[0])


# ==========================================================================
# 3. Crypto: ECDSA in raw r||s form (BSI TR-03111), ECDH + X9.63 KDF (SGP.22 v3 2.6.4.2),
#    SCP03t segment protection (SGP.22 v3 2.6.4)
# ==========================================================================

def coord_len(curve):
    return (curve.key_size + 7) // 8


def ecdsa_sign_raw(key, data):
    """SHA-256 ECDSA, returned as fixed-width r||s (BSI TR-03111)."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    n = coord_len(key.curve)
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def ecdsa_verify_raw(pub, sig, data):
    n = coord_len(pub.curve)
    if len(sig) != 2 * n:
        return False
    der = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
    try:
        pub.verify(der, data, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def sig_tlv(raw):
    return der_tlv(0x5F37, raw)


def ec_point(pub):
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def ec_load_point(curve, point):
    if not point or point[0] != 0x04 or len(point) != 1 + 2 * coord_len(curve):
        raise ValueError("not an uncompressed point on %s" % curve.name)
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)


def x963_kdf(z, shared_info, length):
    """ANSI X9.63 KDF with SHA-256 (SGP.22 v3 2.6.4.2)."""
    out, i = b"", 1
    while len(out) < length:
        out += hashlib.sha256(z + i.to_bytes(4, "big") + shared_info).digest()
        i += 1
    return out[:length]


def bsp_session_keys(shs, host_id, eid_bin, key_type=0x88, key_len=16):
    """SGP.22 v3 2.6.4.2: returns (initial MCV, S-ENC, S-MAC)."""
    shared_info = (bytes([key_type, key_len, len(host_id)]) + host_id + bytes([len(eid_bin)]) + eid_bin)
    k = x963_kdf(shs, shared_info, 3 * key_len)
    return k[:key_len], k[key_len:2 * key_len], k[2 * key_len:3 * key_len]


def aes_ecb(key, block):
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def aes_cbc(key, iv, data):
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def aes_cmac(key, data):
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


class Scp03t:
    """SCP03t / BSP segment protection, SGP.22 v3 2.6.4.  One instance holds the
    key set, MAC chaining value and block counter; the counter advances for
    every segment including MAC-only 88 segments."""

    MAX_SEGMENT = 1020          # tag + length + data + MAC (SGP.22 v3 2.5.3)

    def __init__(self, s_enc, s_mac, mcv):
        self.s_enc, self.s_mac, self.mcv = s_enc, s_mac, mcv
        self.ctr = 1

    def icv(self):
        return aes_ecb(self.s_enc, self.ctr.to_bytes(16, "big"))

    def protect(self, tag, plaintext):
        if tag in (0x86, 0x87):
            padded = plaintext + b"\x80"
            padded += b"\x00" * (-len(padded) % 16)
            c = aes_cbc(self.s_enc, self.icv(), padded)
        elif tag == 0x88:
            c = plaintext
        else:
            raise ValueError("bad segment tag %X" % tag)
        self.ctr += 1
        hdr = bytes([tag]) + der_len(len(c) + 8)
        full = aes_cmac(self.s_mac, self.mcv + hdr + c)
        self.mcv = full
        return hdr + c + full[:8]

    @classmethod
    def max_plain(cls, tag):
        # 1020 - tag(1) - len(3) - MAC(8) = 1008 bytes of C; encrypted
        # segments always add the 80 pad byte, so at most 1007 B plaintext.
        return 1008 if tag == 0x88 else 1007

    def segments(self, tag, data):
        step = self.max_plain(tag)
        chunks = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        return [self.protect(tag, c) for c in chunks]


# ==========================================================================
# 4. PKI loading and certificate checks (SGP.22 cert profiles, SGP.26)
# ==========================================================================

class CertKey:
    def __init__(self, cert_path, key_path=None):
        self.path = cert_path
        with open(cert_path, "rb") as f:
            data = f.read()
        self.cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                     else x509.load_der_x509_certificate(data))
        self.der = self.cert.public_bytes(serialization.Encoding.DER)
        self.key = None
        if key_path:
            with open(key_path, "rb") as f:
                self.key = serialization.load_pem_private_key(f.read(), None)


def cert_ski(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def cert_aki(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None


def cert_policies(cert):
    try:
        return {p.policy_identifier.dotted_string
                for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value}
    except x509.ExtensionNotFound:
        return set()


def cert_rid(cert):
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    rids = san.get_values_for_type(x509.RegisteredID)
    return rids[0].dotted_string if rids else None


def cert_serial_number_attr(cert):
    attrs = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return attrs[0].value if attrs else None


def cert_signed_by(cert, issuer_pub):
    """Verify CERT's signature with ISSUER_PUB only (no path validation: the
    SGP.26 EUM nameConstraints make generic validators fail, see the sgp26
    README)."""
    if not isinstance(issuer_pub, ec.EllipticCurvePublicKey):
        return False
    try:
        issuer_pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def cert_time_ok(cert, now=None):
    now = now or datetime.datetime.utcnow()
    return cert.not_valid_before <= now <= cert.not_valid_after


def eum_permitted_prefixes(eum):
    """EID prefixes an EUM may certify: nameConstraints permitted DirectoryName
    serialNumber (SGP.26 variant) and/or the permittedEins extension."""
    out = []
    try:
        nc = eum.extensions.get_extension_for_class(x509.NameConstraints).value
        for gn in nc.permitted_subtrees or []:
            if isinstance(gn, x509.DirectoryName):
                for a in gn.value.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
                    out.append(a.value)
    except x509.ExtensionNotFound:
        pass
    try:
        ext = eum.extensions.get_extension_for_oid(x509.ObjectIdentifier(OID_PERMITTED_EINS))
        seq = der_parse_single(ext.value.value, 0x30)
        out += [c.value.decode("ascii", "replace") for c in seq.children()]
    except (x509.ExtensionNotFound, DerError, AttributeError):
        pass
    return out


class Pki:
    """The SM-DP+ side of a test PKI: trusted CI(s), DPauth, DPpb, DP TLS.

    DIR is either a mkpki.py output (manifest.json) or an SGP.26-style tree
    (CertificateIssuer/, DPauth/, DPpb/, DPtls/ with *_NIST / *_BRP names)."""

    def __init__(self, pki_dir, curve="nist"):
        self.dir = pki_dir
        self.host = None
        self.other_eid = None
        mpath = os.path.join(pki_dir, "manifest.json")
        if os.path.exists(mpath):
            with open(mpath) as f:
                m = json.load(f)
            p = lambda rel: os.path.join(pki_dir, rel)  # noqa: E731
            self.cis = [CertKey(p(m["ci"]["cert_der"]))]
            self.dpauth = CertKey(p(m["dpauth"]["cert_der"]), p(m["dpauth"]["key_pem"]))
            self.dppb = CertKey(p(m["dppb"]["cert_der"]), p(m["dppb"]["key_pem"]))
            self.tls_cert, self.tls_key = p(m["dptls"]["cert_pem"]), p(m["dptls"]["key_pem"])
            self.host = m.get("host")
            if "euicc2" in m:
                self.other_eid = m["euicc2"]["eid"]
        else:
            C = {"nist": "NIST", "brp": "BRP"}[curve]
            p = lambda *a: os.path.join(pki_dir, *a)  # noqa: E731
            self.cis = [CertKey(p("CertificateIssuer", "CERT_CI_ECDSA_%s.der" % C))]
            self.dpauth = CertKey(p("DPauth", "CERT_S_SM_DPauth_ECDSA_%s.der" % C),
                                  p("DPauth", "SK_S_SM_DPauth_ECDSA_%s.pem" % C))
            self.dppb = CertKey(p("DPpb", "CERT_S_SM_DPpb_ECDSA_%s.der" % C),
                                p("DPpb", "SK_S_SM_DPpb_ECDSA_%s.pem" % C))
            self.tls_cert = p("DPtls", "CERT_S_SM_DP_VARO_TLS_%s.pem" % C)
            self.tls_key = p("DPtls", "SK_S_SM_DP_TLS_%s.pem" % C)
        # The CI our DPauth/DPpb chain to: the only one we can offer.
        aki = cert_aki(self.dpauth.cert)
        self.ci = next((c for c in self.cis if cert_ski(c.cert) == aki), None)
        if self.ci is None:
            raise SystemExit("PKI: no CI certificate matches the DPauth AKI")
        self.ci_ski = cert_ski(self.ci.cert)
        self.smdp_oid = cert_rid(self.dpauth.cert) or "2.999.10"

    def ci_by_ski(self, ski):
        return next((c for c in self.cis if cert_ski(c.cert) == ski), None)


# ==========================================================================
# 5. Download orders, UPP, metadata (ES8+.StoreMetadata, SGP.22 5.5)
# ==========================================================================

EVENT_BITS = {"install": 0, "enable": 1, "disable": 2, "delete": 3}
CLASS_VALUES = {"test": 0, "provisioning": 1, "operational": 2}
PPR_BITS = {"pprUpdateControl": 0, "ppr1": 1, "ppr2": 2}


class Order:
    """One download order (one entry of the --profiles SPEC)."""

    FIELDS = {"matching_id", "iccid", "cc", "spn", "name", "class", "upp", "upp_size", "upp_seed",
              "replace_keys", "notify", "notify_combined", "notify_address", "eid", "misbehave",
              "cc_max_attempts", "reusable", "ppr", "owner_mccmnc", "icon", "icon_type", "comment"}

    def __init__(self, d, base_dir, defaults):
        unknown = set(d) - self.FIELDS
        if unknown:
            raise ValueError("unknown order field(s) %s" % sorted(unknown))
        self.matching_id = d.get("matching_id") or ""
        self.cc = d.get("cc")
        self.spn = d.get("spn", "Test Operator")
        self.name = d.get("name", "Test Profile")
        self.pclass = d.get("class", "operational")
        if self.pclass not in CLASS_VALUES:
            raise ValueError("class must be one of %s" % sorted(CLASS_VALUES))
        self.replace_keys = bool(d.get("replace_keys", False))
        self.notify = list(d.get("notify", ["enable", "disable", "delete"]))
        for ev in self.notify:
            if ev not in EVENT_BITS:
                raise ValueError("notify event %r unknown" % ev)
        self.notify_combined = bool(d.get("notify_combined", False))
        self.notify_address = d.get("notify_address")
        self.eid = d.get("eid")
        self.misbehave = Misbehave.parse(d["misbehave"]) if d.get("misbehave") else None
        self.cc_max_attempts = int(d.get("cc_max_attempts", defaults["cc_max_attempts"]))
        self.reusable = bool(d.get("reusable", False))
        self.ppr = d.get("ppr") or []
        self.owner_mccmnc = d.get("owner_mccmnc")
        self.icon_type = d.get("icon_type")
        self.icon = None
        if d.get("icon"):
            with open(os.path.join(base_dir, d["icon"]), "rb") as f:
                self.icon = f.read()
        upp = d.get("upp")
        if upp:
            with open(os.path.join(base_dir, upp), "rb") as f:
                self.upp = f.read()
            self.upp_source = upp
            hdr_iccid = mkupp.header_info(self.upp).get("iccid")
            self.iccid = d.get("iccid") or hdr_iccid
        else:
            self.iccid = d.get("iccid")
            if not self.iccid:
                raise ValueError("order %r: iccid required for a synthetic UPP" % self.matching_id)
            self.upp = mkupp.build_synthetic_upp(self.iccid, int(d.get("upp_size", 4096)),
                                                 d.get("upp_seed", self.iccid))
            self.upp_source = "synthetic"
        iccid_to_swapped_bcd(self.iccid)      # validate
        self.state = "released"
        self.cc_attempts = 0

    def summary(self):
        return {"matching_id": self.matching_id, "iccid": self.iccid, "state": self.state,
                "cc_attempts": self.cc_attempts, "eid": self.eid, "upp": self.upp_source,
                "upp_len": len(self.upp), "replace_keys": self.replace_keys,
                "misbehave": self.misbehave.describe() if self.misbehave else None}

    def metadata(self, notify_address, spn_suffix=""):
        """StoreMetadataRequest BF25 (ES8+.StoreMetadata, SGP.22 5.5), DER order."""
        v = der_tlv(0x5A, iccid_to_swapped_bcd(self.iccid))
        v += der_tlv(0x91, (self.spn + spn_suffix).encode())
        v += der_tlv(0x92, self.name.encode())
        if self.icon is not None:
            v += der_tlv(0x93, bytes([{"jpg": 0, "png": 1}[self.icon_type or "png"]]))
            v += der_tlv(0x94, self.icon)
        if self.pclass != "operational":           # DEFAULT operational: omitted in DER
            v += der_tlv(0x95, der_int(CLASS_VALUES[self.pclass]))
        if self.notify:
            addr = (self.notify_address or notify_address).encode()
            if self.notify_combined:
                entries = [der_tlv(0x30, der_tlv(0x80, der_bitstring({EVENT_BITS[e] for e in self.notify}))
                                   + der_tlv(0x81, addr))]
            else:
                entries = [der_tlv(0x30, der_tlv(0x80, der_bitstring({EVENT_BITS[e]})) + der_tlv(0x81, addr))
                           for e in self.notify]
            v += der_tlv(0xB6, b"".join(entries))
        if self.owner_mccmnc:
            v += der_tlv(0xB7, der_tlv(0x80, mccmnc_bytes(self.owner_mccmnc)))
        if self.ppr:
            v += der_tlv(0x99, der_bitstring({PPR_BITS[p] for p in self.ppr}))
        return der_tlv(0xBF25, v)


def load_orders(path, defaults):
    with open(path) as f:
        spec = json.load(f)
    if isinstance(spec, dict):
        spec = spec.get("orders", [])
    base = os.path.dirname(os.path.abspath(path))
    return [Order(d, base, defaults) for d in spec]


DEFAULT_ORDERS = [
    {"matching_id": "ESIMCTL-TEST-1", "iccid": "8949449999999990023", "cc": None},
    {"matching_id": "ESIMCTL-TEST-CC", "iccid": "8949449999999990031", "cc": "1234"},
]


# ==========================================================================
# 6. BPP builder (SGP.22 2.5.4, 5.5)
# ==========================================================================

class BppParts:
    """A built BPP plus the offsets of interesting pieces (for misbehaviour)."""

    def __init__(self):
        self.bpp = b""
        self.segments = []      # (tag, offset in bpp, length)
        self.smdp_sign_off = None


def build_bpp(pki, txid, host_id, otpk_euicc_sign, otpk_euicc_ecdh, eid_kdf, metadata, upp, replace_keys):
    """Build BF36 for one session.

    otpk_euicc_sign goes into the smdpSign input, otpk_euicc_ecdh is used for
    the key agreement; both are the eUICC's otPK in a well-behaved run."""
    curve = pki.dppb.key.curve
    ot_dp = ec.generate_private_key(curve)
    otpk_dp = ec_point(ot_dp.public_key())

    # BF23 InitialiseSecureChannelRequest (ES8+.InitialiseSecureChannel, SGP.22 5.5)
    remote_op = der_tlv(0x82, b"\x01")
    txid_tlv = der_tlv(0x80, txid)
    crt = der_tlv(0xA6, der_tlv(0x80, b"\x88") + der_tlv(0x81, b"\x10") + der_tlv(0x84, host_id))
    otpk_dp_tlv = der_tlv(0x5F49, otpk_dp)
    sign_input = remote_op + txid_tlv + crt + otpk_dp_tlv + der_tlv(0x5F49, otpk_euicc_sign)
    smdp_sign = ecdsa_sign_raw(pki.dppb.key, sign_input)
    bf23_val = remote_op + txid_tlv + crt + otpk_dp_tlv
    bf23 = der_tlv(0xBF23, bf23_val + sig_tlv(smdp_sign))

    # Key agreement + KDF (SGP.22 v3 2.6.4.2)
    shs = ot_dp.exchange(ec.ECDH(), ec_load_point(curve, otpk_euicc_ecdh))
    mcv, s_enc, s_mac = bsp_session_keys(shs, host_id, eid_to_bytes(eid_kdf))
    bsp = Scp03t(s_enc, s_mac, mcv)

    groups = []     # (outer tag, [segments])
    groups.append((0xA0, bsp.segments(0x87, der_tlv(0xBF24, b""))))     # ConfigureISDPRequest
    groups.append((0xA1, bsp.segments(0x88, metadata)))                  # StoreMetadataRequest
    if replace_keys:
        ppk_mcv, ppk_enc, ppk_mac = os.urandom(16), os.urandom(16), os.urandom(16)
        bf26 = der_tlv(0xBF26, der_tlv(0x80, ppk_mcv) + der_tlv(0x81, ppk_enc) + der_tlv(0x82, ppk_mac))
        groups.append((0xA2, bsp.segments(0x87, bf26)))                  # ReplaceSessionKeysRequest
        bsp = Scp03t(ppk_enc, ppk_mac, ppk_mcv)                           # 86s restart with the PPKs
    groups.append((0xA3, bsp.segments(0x86, upp)))                       # the profile

    parts = BppParts()
    body = bytearray(bf23)
    seg_rel = []
    for gtag, segs in groups:
        inner = b"".join(segs)
        head = der_tlv(gtag, inner)[:-len(inner)] if inner else der_tlv(gtag, b"")
        pos = len(body) + len(head)
        for s in segs:
            seg_rel.append((s[0], pos, len(s)))
            pos += len(s)
        body += head + inner
    outer_head = der_tlv(0xBF36, bytes(body))[:-len(body)]
    parts.bpp = outer_head + bytes(body)
    parts.segments = [(t, o + len(outer_head), n) for t, o, n in seg_rel]
    # offset of the smdpSign value inside BF23: BF23 header + fields + 5F37 40
    bf23_head = len(der_tlv(0xBF23, bf23_val + sig_tlv(smdp_sign))) - len(bf23_val) - len(sig_tlv(smdp_sign))
    parts.smdp_sign_off = len(outer_head) + bf23_head + len(bf23_val) + 3
    return parts


# ==========================================================================
# 7. Misbehaviour modes
# ==========================================================================

HTTP_MODES = {"malformed-json", "invalid-base64", "stall", "hold", "http-500", "http-status", "oversized-body",
              "trickle", "redirect"}

# mode -> (default functions, one-line description)
MODES = {
    "none": ((), "behave"),
    # -- initiateAuthentication
    "wrong-signature-1": (("initiateAuthentication",), "corrupt serverSignature1"),
    "bad-euicc-challenge": (("initiateAuthentication",), "serverSigned1.euiccChallenge != the eUICC's"),
    "wrong-server-address": (("initiateAuthentication",), "serverSigned1.serverAddress = another host"),
    "txid-mismatch": (("initiateAuthentication",), "JSON transactionId != serverSigned1.transactionId"),
    # -- authenticateClient
    "unknown-matching-id": (("authenticateClient",), "refuse every matchingId (8.2.6/3.8)"),
    "wrong-signature-2": (("authenticateClient",), "corrupt smdpSignature2"),
    "expired-transaction": (("authenticateClient", "getBoundProfilePackage"),
                            "answer status Expired for the transaction"),
    "failed-status": (("authenticateClient",), "answer Failed with params subject/reason"),
    # -- getBoundProfilePackage
    "replay": (("getBoundProfilePackage",), "re-deliver a previously delivered BPP / accept a used txid"),
    "other-euicc": (("getBoundProfilePackage",), "BPP bound to a random otPK.EUICC (smdpSign + ECDH)"),
    "other-euicc-mac": (("getBoundProfilePackage",), "smdpSign ok, but ECDH with a random otPK (MACs fail)"),
    "other-eid": (("getBoundProfilePackage",), "KDF SharedInfo uses another EID (MACs fail)"),
    "truncated-bpp": (("getBoundProfilePackage",), "cut BF36 in the middle of an 86 segment"),
    "tampered-segment": (("getBoundProfilePackage",), "flip one ciphertext byte of an 86 segment"),
    "wrong-mac": (("getBoundProfilePackage",), "corrupt the MAC of the 87 (ConfigureISDP) segment"),
    "wrong-mac-88": (("getBoundProfilePackage",), "corrupt the MAC of the first 88 segment"),
    "wrong-signature-bpp": (("getBoundProfilePackage",), "corrupt smdpSign in BF23"),
    "metadata-mismatch": (("getBoundProfilePackage",), "BF25 in the BPP differs from profileMetadata"),
    "iccid-mismatch": (("getBoundProfilePackage",), "UPP header ICCID differs from the metadata ICCID"),
    # -- HTTP level (any function)
    "malformed-json": (ES9_FUNCTIONS, "200 with a truncated JSON body"),
    "invalid-base64": (ES9_FUNCTIONS, "base64 fields replaced by invalid base64"),
    "stall": (ES9_FUNCTIONS, "sleep params.seconds (<=60, default 60) before answering; stop on disconnect"),
    "hold": (ES9_FUNCTIONS, "process the request, then hold the answer until POST /test/release (or the "
                            "client disconnects; at most params.seconds, default 300); GET /test/state lists "
                            "the held requests"),
    "http-500": (ES9_FUNCTIONS, "HTTP 500"),
    "http-status": (ES9_FUNCTIONS, "HTTP params.status (default 503)"),
    "oversized-body": (ES9_FUNCTIONS, "stream params.bytes (default 64 MiB, <=256 MiB) of garbage"),
    "trickle": (ES9_FUNCTIONS, "send the real response 1 byte per params.interval s (default 0.1), "
                               "for at most params.max_seconds (default 60) and params.max_bytes (default all)"),
    "redirect": (ES9_FUNCTIONS, "302 to params.location (default https://redirect.example.com<path>)"),
}
MODE_ALIASES = {"wrong-signature": "wrong-signature-1", "wrong-signature-smdp2": "wrong-signature-2"}


class Misbehave:
    """An active misbehaviour: mode, the functions it applies to, an optional
    remaining count (global modes only) and free-form params."""

    def __init__(self, mode, functions=None, count=None, params=None):
        mode = MODE_ALIASES.get(mode, mode)
        if mode not in MODES:
            raise ValueError("unknown misbehave mode %r (known: %s)" % (mode, ", ".join(sorted(MODES))))
        self.mode = mode
        self.functions = set(functions or MODES[mode][0])
        bad = self.functions - set(ES9_FUNCTIONS)
        if bad:
            raise ValueError("unknown function(s) %s" % sorted(bad))
        self.count = count
        self.params = params or {}

    @classmethod
    def parse(cls, spec):
        """Accepts a dict {"mode":..,"functions":[..],"count":N, other keys =
        params}, a JSON string of that, or "mode[:k=v,k=v]" (functions joined
        with '+')."""
        if isinstance(spec, str):
            spec = spec.strip()
            if spec.startswith("{"):
                spec = json.loads(spec)
            else:
                mode, _, rest = spec.partition(":")
                d = {"mode": mode}
                for kv in filter(None, rest.split(",")):
                    k, _, v = kv.partition("=")
                    if k == "functions":
                        d[k] = v.split("+")
                    else:
                        try:
                            d[k] = json.loads(v)
                        except ValueError:
                            d[k] = v
                spec = d
        if not isinstance(spec, dict) or "mode" not in spec:
            raise ValueError("misbehave spec needs a mode")
        spec = dict(spec)
        mode = spec.pop("mode")
        functions = spec.pop("functions", None)
        count = spec.pop("count", None)
        if mode == "none":
            return None
        return cls(mode, functions, int(count) if count is not None else None, spec)

    def describe(self):
        d = {"mode": self.mode, "functions": sorted(self.functions)}
        if self.count is not None:
            d["count"] = self.count
        d.update(self.params)
        return d


def flip(buf, off, mask=0x01):
    b = bytearray(buf)
    b[off] ^= mask
    return bytes(b)


# ==========================================================================
# 8. The ES9+ functions
# ==========================================================================

class ApiError(Exception):
    """A business failure: HTTP 200 + header status Failed/Expired (SGP.22 6.5.1.4)."""

    def __init__(self, subject, reason, message=None, status="Failed", http=200):
        super().__init__(message or "%s/%s" % (subject, reason))
        self.subject, self.reason, self.message, self.status, self.http = subject, reason, message, status, http


class Response:
    def __init__(self, http=200, obj=None, body=None, headers=None):
        self.http = http
        self.obj = obj
        self.body = body
        self.headers = headers or []
        self.log = {}

    def encode(self):
        if self.body is None:
            self.body = b"" if self.obj is None else json.dumps(self.obj, separators=(",", ":")).encode()
        return self.body


def ok_header():
    return {"functionExecutionStatus": {"status": "Executed-Success"}}


def error_response(e):
    sc = {"subjectCode": e.subject, "reasonCode": e.reason}
    if e.message:
        sc["message"] = e.message
    r = Response(e.http, {"header": {"functionExecutionStatus": {"status": e.status, "statusCodeData": sc}}})
    r.log.update(status=e.status, subjectCode=e.subject, reasonCode=e.reason, message=e.message)
    return r


def b64(data):
    return base64.b64encode(data).decode("ascii")


class Session:
    def __init__(self, txid):
        self.txid = txid
        self.created = time.monotonic()
        self.state = "initiated"       # -> authenticated -> delivered
        self.euicc_challenge = self.server_challenge = None
        self.server_address = None
        self.euicc_cert = self.eum_cert = None
        self.eid = None
        self.order = None
        self.smdp_sig2_tlv = None
        self.euicc_sig1_tlv = None
        self.cc_required = False
        self.bpp = None
        self.notified = False          # install notification (BF37) processed


class Ctx:
    """Per-request context: function, chosen misbehaviour, log fields.

    gmb is the global misbehaviour (chosen when the request starts), omb the
    download order's own one (known once the session/order is known); the
    order's mode wins."""

    def __init__(self, function):
        self.function = function
        self.gmb = None
        self.omb = None
        self.txid = None
        self.order = None

    @property
    def mb(self):
        return self.omb or self.gmb


class SmdpCore:
    def __init__(self, args, pki, orders):
        self.args = args
        self.pki = pki
        self.host = args.host
        self.notify_address = args.notify_address or args.host
        self.host_id = args.host_id.encode()
        self.ttl = args.ttl
        self.orders = orders
        self.sessions = {}
        self.expired = {}           # txid hex -> time expired (to answer "Expired")
        self.done = {}              # txid hex -> Session, finished/forgotten (late notifications)
        self.last_delivered = None  # (txid, bpp) for the replay mode
        self.global_mb = Misbehave.parse(args.misbehave) if args.misbehave else None
        self.lock = threading.RLock()
        self.log_lock = threading.Lock()
        self.events = []            # recent events, for GET /test/state
        self.port = None
        self.holds = []             # [(function, threading.Event)] answers held by the hold mode

    # ---------------------------------------------------------------- logging

    def _write(self, path, rec):
        if path:
            with open(path, "a") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")

    def log_request(self, rec):
        rec = dict(rec, ts=now_iso(), event="request")
        with self.log_lock:
            self._write(self.args.log, rec)
        if self.args.verbose:
            print("smdpp: %s" % json.dumps(rec, sort_keys=True), file=sys.stderr, flush=True)

    def event(self, event_kind, **fields):
        rec = dict(fields, ts=now_iso(), event=event_kind)
        with self.log_lock:
            self.events.append(rec)
            del self.events[:-500]
            self._write(self.args.state, rec)
            self._write(self.args.log, rec)
        if self.args.verbose:
            print("smdpp: %s" % json.dumps(rec, sort_keys=True), file=sys.stderr, flush=True)

    # ------------------------------------------------------------ misbehaviour

    def pick_global_mb(self, ctx):
        """At request start: take the global misbehaviour if it applies to
        this function (and count it down)."""
        g = self.global_mb
        if g is not None and ctx.function in g.functions:
            if g.count is not None:
                g.count -= 1
                if g.count <= 0:
                    self.global_mb = None
            ctx.gmb = g

    def pick_order_mb(self, ctx, order):
        """Once the order is known: its own misbehaviour, if any, wins."""
        if order is not None and order.misbehave and ctx.function in order.misbehave.functions:
            ctx.omb = order.misbehave
        self.check_failed_status(ctx)

    @staticmethod
    def check_failed_status(ctx):
        if ctx.mb is not None and ctx.mb.mode == "failed-status":
            p = ctx.mb.params
            raise ApiError(str(p.get("subject", "8.1")), str(p.get("reason", "6.1")),
                           p.get("message", "injected failure"))

    def mode(self, ctx):
        return ctx.mb.mode if ctx.mb else None

    def set_misbehave(self, spec):
        with self.lock:
            self.global_mb = Misbehave.parse(spec)
            self.event("misbehave", misbehave=self.global_mb.describe() if self.global_mb else None)
            return self.global_mb

    # ------------------------------------------------------------- helpers

    @staticmethod
    def field(body, name):
        v = body.get(name)
        if v is None:
            raise ApiError("1.3.1", "2.2", "mandatory element %s missing" % name)
        if not isinstance(v, str):
            raise ApiError("1.3.1", "2.1", "%s must be a string" % name)
        return v

    def field_b64(self, body, name):
        s = "".join(self.field(body, name).split())     # servers/clients may wrap base64
        try:
            return base64.b64decode(s, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError("1.3.1", "2.1", "%s is not valid base64" % name)

    def field_txid(self, body):
        s = self.field(body, "transactionId")
        try:
            t = bytes.fromhex(s)
        except ValueError:
            raise ApiError("1.3.1", "2.1", "transactionId is not hex")
        if not 1 <= len(t) <= 16:
            raise ApiError("1.3.1", "2.1", "transactionId length %d" % len(t))
        return t

    @staticmethod
    def parse_der(data, tag, what):
        try:
            return der_parse_single(data, tag)
        except DerError as e:
            raise ApiError("1.3.1", "2.1", "%s: %s" % (what, e))

    def session(self, ctx, txid):
        """Look up a live session (8.10.1/3.9 unknown; status Expired after TTL)."""
        key = txid.hex().upper()
        ctx.txid = key
        s = self.sessions.get(key)
        if s is None:
            if key in self.expired:
                raise ApiError("8.10.1", "3.9", "transaction expired", status="Expired")
            raise ApiError("8.10.1", "3.9", "The RSP session identified by the transactionId is unknown")
        if time.monotonic() - s.created > self.ttl:
            self.forget(s, "expired")
            raise ApiError("8.10.1", "3.9", "transaction expired (ttl %ss)" % self.ttl, status="Expired")
        self.pick_order_mb(ctx, s.order)
        if self.mode(ctx) == "expired-transaction":
            self.forget(s, "expired")
            raise ApiError("8.10.1", "3.9", "transaction expired (misbehave)", status="Expired")
        ctx.order = s.order
        return s

    def prune(self):
        """Drop sessions older than the TTL (they answer "Expired" afterwards)."""
        now = time.monotonic()
        for s in [s for s in self.sessions.values() if now - s.created > self.ttl]:
            self.forget(s, "expired")
        if len(self.expired) > 2000:
            for k in sorted(self.expired, key=self.expired.get)[:1000]:
                del self.expired[k]

    def forget(self, s, why):
        key = s.txid.hex().upper()
        self.sessions.pop(key, None)
        if why == "expired":
            self.expired[key] = time.monotonic()
        self.done[key] = s
        if len(self.done) > 1000:
            for k in list(self.done)[:500]:
                del self.done[k]

    def find_order(self, matching_id, eid):
        for o in self.orders:
            if matching_id and o.matching_id == matching_id:
                return o
            if not matching_id and not o.matching_id and o.eid == eid:
                return o
        if matching_id and self.args.upp_dir and all(c.isalnum() or c in "-_." for c in matching_id) \
                and not matching_id.startswith("."):
            path = os.path.join(self.args.upp_dir, matching_id + ".der")
            if os.path.isfile(path):
                o = Order({"matching_id": matching_id, "upp": os.path.abspath(path), "reusable": True},
                          "/", {"cc_max_attempts": self.args.cc_max_attempts})
                self.orders.append(o)
                return o
        return None

    def verify_euicc_chain(self, euicc_cert, eum_cert, ci_ski=None):
        """CI -> EUM -> eUICC, signature by signature (SGP.22 5.6.3).  Returns the
        EID.  Raises ApiError with the codes of SGP.22 5.6.3."""
        aki = cert_aki(eum_cert)
        if ci_ski is not None and aki != ci_ski:
            raise ApiError("8.11.1", "3.9", "EUM certificate not issued by the CI in use")
        ci = self.pki.ci_by_ski(aki)
        if ci is None:
            raise ApiError("8.11.1", "3.9", "unknown CI public key")
        # order: signature, validity, role policy (SGP.26's osmocom-made negative
        # EUMs carry a wrong policy OID; an expired one should still say "expired")
        if not cert_signed_by(eum_cert, ci.cert.public_key()):
            raise ApiError("8.1.2", "6.1", "EUM certificate signature invalid")
        if not cert_time_ok(eum_cert):
            raise ApiError("8.1.2", "6.3", "EUM certificate expired")
        if not cert_policies(eum_cert) & set(OID_ROLE_EUM):
            raise ApiError("8.1.2", "6.1", "EUM certificate lacks the EUM role policy")
        if not cert_signed_by(euicc_cert, eum_cert.public_key()):
            raise ApiError("8.1.3", "6.1", "eUICC certificate signature invalid")
        if not cert_time_ok(euicc_cert):
            raise ApiError("8.1.3", "6.3", "eUICC certificate expired")
        if OID_ROLE_EUICC not in cert_policies(euicc_cert):
            raise ApiError("8.1.3", "6.1", "eUICC certificate lacks the eUICC role policy")
        eid = cert_serial_number_attr(euicc_cert)
        if not eid or len(eid) != 32 or not eid.isdigit():
            raise ApiError("8.1.3", "6.1", "eUICC certificate has no valid EID in subject serialNumber")
        prefixes = eum_permitted_prefixes(eum_cert)
        if not any(eid.startswith(p) for p in prefixes):
            raise ApiError("8.1.4", "6.1", "EID %s outside EUM permitted range %s" % (eid, prefixes))
        return eid

    @staticmethod
    def load_cert(tlv, what, subject):
        try:
            return x509.load_der_x509_certificate(tlv.raw)
        except ValueError as e:
            raise ApiError(subject, "6.1", "%s certificate undecodable: %s" % (what, e))

    # ------------------------------------------------ ES9+ initiateAuthentication

    def initiate_authentication(self, ctx, body):
        """SGP.22 5.6.1 (JSON: 6.5.2.6)"""
        self.prune()
        addr = self.field(body, "smdpAddress")
        challenge = self.field_b64(body, "euiccChallenge")
        info1_raw = self.field_b64(body, "euiccInfo1")
        ok_addrs = {self.host.lower(), ("%s:%s" % (self.host, self.port)).lower()}
        if addr.lower() not in ok_addrs:
            raise ApiError("8.8.1", "3.8", "Invalid SM-DP+ Address %r" % addr)
        if len(challenge) != 16:
            raise ApiError("1.3.1", "2.1", "euiccChallenge must be 16 raw bytes (got %d)" % len(challenge))
        info1 = self.parse_der(info1_raw, 0xBF20, "euiccInfo1")
        try:
            kids = info1.children()
            svn = next((c.value for c in kids if c.tag == 0x82), None)
            ver = [c.value for t in kids if t.tag == 0xA9 for c in t.children() if c.tag == 0x04]
            sig = [c.value for t in kids if t.tag == 0xAA for c in t.children() if c.tag == 0x04]
        except DerError as e:
            raise ApiError("1.3.1", "2.1", "euiccInfo1: %s" % e)
        if svn is None or len(svn) != 3 or svn[0] < 2:
            raise ApiError("8.8.3", "3.1", "eUICC SVN not supported")
        ski = self.pki.ci_ski
        if ski not in sig:
            raise ApiError("8.8.2", "3.1", "None of the proposed Public Key Identifiers is supported")
        if ski not in ver:
            raise ApiError("8.8.4", "3.7", "no CERT.DPauth under a CI the eUICC can verify")

        mode = self.mode(ctx)
        txid = os.urandom(16)
        s = Session(txid)
        s.euicc_challenge = challenge
        s.server_challenge = os.urandom(16)
        s.server_address = addr
        key = txid.hex().upper()
        ctx.txid = key

        # serverSigned1 (SGP.22 5.7.13): 80 txid, 81 euiccChallenge, 83 serverAddress, 84 serverChallenge
        signed_challenge = flip(challenge, 0) if mode == "bad-euicc-challenge" else challenge
        signed_addr = "other-smdp.example.com" if mode == "wrong-server-address" else addr
        ss1 = der_tlv(0x30, der_tlv(0x80, txid) + der_tlv(0x81, signed_challenge)
                      + der_tlv(0x83, signed_addr.encode()) + der_tlv(0x84, s.server_challenge))
        sig1 = ecdsa_sign_raw(self.pki.dpauth.key, ss1)
        if mode == "wrong-signature-1":
            sig1 = flip(sig1, 5)
        json_txid = key
        if mode == "txid-mismatch":
            json_txid = flip(txid, 15).hex().upper()
        self.sessions[key] = s
        return Response(200, {
            "header": ok_header(),
            "transactionId": json_txid,
            "serverSigned1": b64(ss1),
            "serverSignature1": b64(sig_tlv(sig1)),
            "euiccCiPKIdToBeUsed": b64(der_tlv(0x04, ski)),
            "serverCertificate": b64(self.pki.dpauth.der),
        })

    # ---------------------------------------------------- ES9+ authenticateClient

    def authenticate_client(self, ctx, body):
        """SGP.22 5.6.3 (JSON: 6.5.2.8)"""
        txid = self.field_txid(body)
        resp_raw = self.field_b64(body, "authenticateServerResponse")
        s = self.session(ctx, txid)
        if s.state != "initiated":
            raise ApiError("8.10.1", "3.9", "transaction already authenticated")
        bf38 = self.parse_der(resp_raw, 0xBF38, "authenticateServerResponse")
        try:
            kids = bf38.children()
            if len(kids) != 1:
                raise DerError("BF38 must hold exactly one CHOICE alternative")
            alt = kids[0]
            if alt.tag == 0xA1:                                   # authenticateResponseError
                err = [c for c in alt.children() if c.tag in (0x02, 0x81)]
                code = int.from_bytes(err[0].value, "big") if err else None
                self.event("euicc-error", function=ctx.function, transactionId=ctx.txid,
                           authenticateErrorCode=code)
                s.state = "failed"
                raise ApiError("8.1", "6.1", "eUICC returned authenticateResponseError %s" % code)
            if alt.tag != 0xA0:
                raise DerError("unexpected alternative %X" % alt.tag)
            parts = alt.children()
            if len(parts) < 4 or [p.tag for p in parts[:4]] != [0x30, 0x5F37, 0x30, 0x30]:
                raise DerError("AuthenticateResponseOk must be 30 5F37 30 30")
            signed1, sig1, euicc_tlv, eum_tlv = parts[:4]
            s1 = {c.tag: c for c in signed1.children()}
        except DerError as e:
            raise ApiError("1.3.1", "2.1", "authenticateServerResponse: %s" % e)

        euicc_cert = self.load_cert(euicc_tlv, "eUICC", "8.1.3")
        eum_cert = self.load_cert(eum_tlv, "EUM", "8.1.2")
        if s1.get(0x80) is None or s1[0x80].value != txid:
            raise ApiError("8.10.1", "3.9", "euiccSigned1.transactionId does not match")
        eid = self.verify_euicc_chain(euicc_cert, eum_cert, self.pki.ci_ski)
        if not ecdsa_verify_raw(euicc_cert.public_key(), sig1.value, signed1.raw):
            raise ApiError("8.1", "6.1", "euiccSignature1 invalid")
        if s1.get(0x84) is None or s1[0x84].value != s.server_challenge:
            raise ApiError("8.1", "6.1", "serverChallenge mismatch")
        s.euicc_cert, s.eum_cert, s.eid = euicc_cert, eum_cert, eid

        # ctxParams1 (SGP.22 5.7.13): A0 { [80 matchingId] A1 deviceInfo }
        ctxp = s1.get(0xA0)
        if ctxp is None:
            raise ApiError("1.3.1", "2.2", "ctxParams1 missing")
        try:
            mid_tlv = ctxp.find(0x80)
        except DerError as e:
            raise ApiError("1.3.1", "2.1", "ctxParams1: %s" % e)
        matching_id = mid_tlv.value.decode("utf-8", "replace") if mid_tlv else ""

        order = self.find_order(matching_id, eid)
        if order is None or self.mode(ctx) == "unknown-matching-id":
            raise ApiError("8.2.6", "3.8", "Refused: unknown matchingId %r" % matching_id)
        ctx.order = order
        self.pick_order_mb(ctx, order)
        if order.state == "failed":
            raise ApiError("8.8.5", "6.4", "download order terminated (retries exceeded)")
        if order.state != "released" and not order.reusable:
            raise ApiError("8.2.6", "3.8", "Refused: matchingId already used (order %s)" % order.state)
        if order.eid and order.eid != eid:
            raise ApiError("8.1.1", "3.8", "EID does not match the download order")
        mode = self.mode(ctx)
        if mode == "unknown-matching-id":
            raise ApiError("8.2.6", "3.8", "Refused (misbehave)")

        s.order = order
        s.cc_required = order.cc is not None
        metadata = order.metadata(self.notify_address)
        # smdpSigned2 (SGP.22 5.6.3): 80 txid, 01 01 ccRequiredFlag
        ss2 = der_tlv(0x30, der_tlv(0x80, txid) + der_tlv(0x01, b"\xFF" if s.cc_required else b"\x00"))
        s.euicc_sig1_tlv = sig1.raw
        sig2 = ecdsa_sign_raw(self.pki.dppb.key, ss2 + sig1.raw)
        s.smdp_sig2_tlv = sig_tlv(sig2)
        if mode == "wrong-signature-2":
            sig2 = flip(sig2, 7)
        s.state = "authenticated"
        self.event("authenticated", transactionId=ctx.txid, eid=eid, matching_id=matching_id,
                   iccid=order.iccid, cc_required=s.cc_required)
        return Response(200, {
            "header": ok_header(),
            "transactionId": txid.hex().upper(),
            "profileMetadata": b64(metadata),
            "smdpSigned2": b64(ss2),
            "smdpSignature2": b64(sig_tlv(sig2)),
            "smdpCertificate": b64(self.pki.dppb.der),
        })

    # ------------------------------------------------ ES9+ getBoundProfilePackage

    def get_bound_profile_package(self, ctx, body):
        """SGP.22 5.6.2 (JSON: 6.5.2.7)"""
        txid = self.field_txid(body)
        pdr_raw = self.field_b64(body, "prepareDownloadResponse")
        s = self.session(ctx, txid)
        mode = self.mode(ctx)
        if s.state == "delivered":
            if mode == "replay":
                self.event("bpp", transactionId=ctx.txid, replay="same-transaction", length=len(s.bpp))
                return Response(200, {"header": ok_header(), "transactionId": txid.hex().upper(),
                                      "boundProfilePackage": b64(s.bpp)})
            raise ApiError("8.10.1", "3.9", "BPP already delivered for this transaction")
        if s.state != "authenticated":
            raise ApiError("8.10.1", "3.9", "transaction not authenticated")
        bf21 = self.parse_der(pdr_raw, 0xBF21, "prepareDownloadResponse")
        try:
            kids = bf21.children()
            if len(kids) != 1:
                raise DerError("BF21 must hold exactly one CHOICE alternative")
            alt = kids[0]
            if alt.tag == 0xA1:                                  # downloadResponseError
                err = [c for c in alt.children() if c.tag in (0x02, 0x81)]
                code = int.from_bytes(err[0].value, "big") if err else None
                self.event("euicc-error", function=ctx.function, transactionId=ctx.txid, downloadErrorCode=code)
                raise ApiError("8.1", "6.1", "eUICC returned downloadResponseError %s" % code)
            if alt.tag != 0xA0:
                raise DerError("unexpected alternative %X" % alt.tag)
            parts = alt.children()
            if len(parts) < 2 or parts[0].tag != 0x30 or parts[1].tag != 0x5F37:
                raise DerError("PrepareDownloadResponseOk must be 30 5F37")
            signed2, sig2 = parts[0], parts[1]
            e2 = {c.tag: c for c in signed2.children()}
        except DerError as e:
            raise ApiError("1.3.1", "2.1", "prepareDownloadResponse: %s" % e)
        # euiccSignature2 over euiccSigned2 || 5F37 smdpSignature2 (SGP.22 5.7.5)
        if not ecdsa_verify_raw(s.euicc_cert.public_key(), sig2.value, signed2.raw + s.smdp_sig2_tlv):
            raise ApiError("8.1", "6.1", "euiccSignature2 invalid")
        if e2.get(0x80) is None or e2[0x80].value != txid:
            raise ApiError("8.10.1", "3.9", "euiccSigned2.transactionId does not match")
        otpk = e2.get(0x5F49)
        if otpk is None:
            raise ApiError("1.3.1", "2.2", "euiccOtpk missing")
        try:
            ec_load_point(self.pki.dppb.key.curve, otpk.value)
        except ValueError as e:
            raise ApiError("8.1", "6.1", "euiccOtpk invalid: %s" % e)

        order = s.order
        if s.cc_required:                                        # hashCc, SGP.22 5.7.5
            hcc = e2.get(0x04)
            if hcc is None:
                raise ApiError("8.2.7", "2.2", "Confirmation Code missing")
            expect = hashlib.sha256(hashlib.sha256(order.cc.encode()).digest() + txid).digest()
            if hcc.value != expect:
                order.cc_attempts += 1
                self.event("cc-refused", transactionId=ctx.txid, matching_id=order.matching_id,
                           attempts=order.cc_attempts, max_attempts=order.cc_max_attempts)
                if order.cc_attempts >= order.cc_max_attempts:
                    order.state = "failed"
                    self.event("order", matching_id=order.matching_id, state=order.state)
                    self.forget(s, "cc-retries")
                    raise ApiError("8.2.7", "6.4", "Confirmation Code retries exceeded")
                raise ApiError("8.2.7", "3.8", "Confirmation Code refused")

        if mode == "replay" and self.last_delivered is not None:
            old_txid, bpp = self.last_delivered
            self.event("bpp", transactionId=ctx.txid, replay="old-transaction",
                       replayed_transactionId=old_txid.hex().upper(), length=len(bpp))
        else:
            bpp = self.bind(s, otpk.value, mode)
            self.last_delivered = (txid, bpp)
        s.bpp = bpp
        s.state = "delivered"
        if order.state == "released":
            order.state = "downloaded"
            self.event("order", matching_id=order.matching_id, state=order.state)
        return Response(200, {"header": ok_header(), "transactionId": txid.hex().upper(),
                              "boundProfilePackage": b64(bpp)})

    def bind(self, s, otpk, mode):
        order = s.order
        otpk_sign = otpk_ecdh = otpk
        eid_kdf = s.eid
        metadata = order.metadata(self.notify_address)
        upp = order.upp
        if mode in ("other-euicc", "other-euicc-mac"):
            rnd = ec_point(ec.generate_private_key(self.pki.dppb.key.curve).public_key())
            otpk_ecdh = rnd
            if mode == "other-euicc":
                otpk_sign = rnd
        elif mode == "other-eid":
            eid_kdf = self.pki.other_eid or (s.eid[:-4] + ("%04d" % ((int(s.eid[-4:]) + 97) % 10000)))
        elif mode == "metadata-mismatch":
            metadata = order.metadata(self.notify_address, spn_suffix=" (changed)")
        elif mode == "iccid-mismatch":
            other = order.iccid[:-2] + ("%02d" % ((int(order.iccid[-2:]) + 1) % 100))
            try:
                upp = mkupp.replace_header_iccid(upp, other)
            except (ValueError, KeyError, IndexError):
                pass
        parts = build_bpp(self.pki, s.txid, self.host_id, otpk_sign, otpk_ecdh, eid_kdf, metadata, upp,
                          order.replace_keys)
        bpp = parts.bpp
        segs = parts.segments
        seg86 = [x for x in segs if x[0] == 0x86]
        info = {"transactionId": s.txid.hex().upper(), "length": len(bpp), "segments": len(segs),
                "replace_keys": order.replace_keys, "iccid": order.iccid, "eid": s.eid}
        if mode == "tampered-segment" and seg86:
            tag, off, n = seg86[1] if len(seg86) > 1 else seg86[0]
            bpp = flip(bpp, off + 4 + 10)                        # a ciphertext byte
            info["tampered_segment"] = segs.index((tag, off, n))
        elif mode == "wrong-mac":
            tag, off, n = next(x for x in segs if x[0] == 0x87)
            bpp = flip(bpp, off + n - 1)
        elif mode == "wrong-mac-88":
            tag, off, n = next(x for x in segs if x[0] == 0x88)
            bpp = flip(bpp, off + n - 1)
        elif mode == "wrong-signature-bpp":
            bpp = flip(bpp, parts.smdp_sign_off + 3)
        elif mode == "truncated-bpp" and seg86:
            tag, off, n = seg86[1] if len(seg86) > 1 else seg86[0]
            bpp = bpp[:off + n // 2]
            info["truncated_at"] = len(bpp)
        if mode:
            info["misbehave"] = mode
        self.event("bpp", **info)
        return bpp

    # --------------------------------------------------- ES9+ handleNotification

    def handle_notification(self, ctx, body):
        """SGP.22 5.6.4 (JSON: 6.5.2.9).  Always 204; the outcome goes to the state log."""
        raw = self.field_b64(body, "pendingNotification")
        rec = {"valid": False}
        try:
            top = der_parse_single(raw)
            if top.tag == 0xBF37:
                self._notif_pir(ctx, top, rec)
            elif top.tag == 0x30:
                self._notif_other(top, rec)
            else:
                raise DerError("unexpected tag %X" % top.tag)
        except (DerError, IndexError, KeyError, ValueError) as e:
            rec["error"] = "undecodable: %s" % (e,)
        except ApiError as e:
            rec["error"] = "%s/%s %s" % (e.subject, e.reason, e.message or "")
        self.event("notification", **rec)
        r = Response(204)
        r.log.update(status="204", notification=rec.get("type"), valid=rec["valid"])
        return r

    @staticmethod
    def _meta(bf2f, rec):
        m = {c.tag: c for c in bf2f.children()}
        if 0x80 in m:
            rec["seq"] = int.from_bytes(m[0x80].value, "big", signed=True)
        if 0x81 in m:
            bits = bitstring_bits(m[0x81].value)
            names = [k for k, v in sorted(EVENT_BITS.items(), key=lambda kv: kv[1]) if v in bits]
            rec["type"] = names[0] if len(names) == 1 else names
        if 0x0C in m:
            rec["address"] = m[0x0C].value.decode("utf-8", "replace")
        if 0x5A in m:
            rec["iccid"] = iccid_from_swapped_bcd(m[0x5A].value)

    def _notif_pir(self, ctx, top, rec):
        """ProfileInstallationResult BF37 { BF27 {...}, 5F37 euiccSignPIR }"""
        rec["kind"] = "ProfileInstallationResult"
        kids = top.children()
        pird = next((k for k in kids if k.tag == 0xBF27), None)
        sig = next((k for k in kids if k.tag == 0x5F37), None)
        if pird is None or sig is None:
            raise DerError("BF37 needs BF27 and 5F37")
        d = {c.tag: c for c in pird.children()}
        if 0xBF2F in d:
            self._meta(d[0xBF2F], rec)
        txid = d[0x80].value if 0x80 in d else b""
        key = txid.hex().upper()
        rec["transactionId"] = key
        ctx.txid = key
        if 0x06 in d:
            rec["smdpOid"] = oid_decode(d[0x06].value)
        fr = d.get(0xA2)
        if fr is not None:
            alt = fr.children()[0]
            if alt.tag == 0xA0:
                rec["result"] = "success"
                aid = alt.find(0x4F)
                if aid is not None:
                    rec["aid"] = aid.value.hex().upper()
            elif alt.tag == 0xA1:
                rec["result"] = "error"
                e = {c.tag: c for c in alt.children()}
                if 0x80 in e:
                    rec["bppCommandId"] = int.from_bytes(e[0x80].value, "big")
                if 0x81 in e:
                    rec["errorReason"] = int.from_bytes(e[0x81].value, "big")
        s = self.sessions.get(key) or self.done.get(key)
        if s is None or s.euicc_cert is None:
            rec["valid"] = None
            rec["error"] = "unknown transaction: signature not verifiable"
            return
        rec["eid"] = s.eid
        rec["valid"] = ecdsa_verify_raw(s.euicc_cert.public_key(), sig.value, pird.raw)
        if not rec["valid"]:
            rec["error"] = "euiccSignPIR invalid"
            return
        if s.notified:
            rec["duplicate"] = True
            return
        s.notified = True
        order = s.order
        if order is not None:
            if rec.get("result") == "success":
                order.state = "installed"
            elif order.state == "downloaded":
                order.state = "released"            # failed install: the order may be retried
            self.event("order", matching_id=order.matching_id, state=order.state)
        self.forget(s, "notified")

    def _notif_other(self, top, rec):
        """OtherSignedNotification 30 { BF2F, 5F37, 30 CERT.EUICC, 30 CERT.EUM }"""
        rec["kind"] = "OtherSignedNotification"
        kids = top.children()
        if len(kids) < 4 or [k.tag for k in kids[:4]] != [0xBF2F, 0x5F37, 0x30, 0x30]:
            raise DerError("OtherSignedNotification must be BF2F 5F37 30 30")
        bf2f, sig, euicc_tlv, eum_tlv = kids[:4]
        self._meta(bf2f, rec)
        euicc_cert = self.load_cert(euicc_tlv, "eUICC", "8.1.3")
        eum_cert = self.load_cert(eum_tlv, "EUM", "8.1.2")
        rec["eid"] = cert_serial_number_attr(euicc_cert)
        self.verify_euicc_chain(euicc_cert, eum_cert)
        rec["valid"] = ecdsa_verify_raw(euicc_cert.public_key(), sig.value, bf2f.raw)
        if not rec["valid"]:
            rec["error"] = "euiccNotificationSignature invalid"

    # -------------------------------------------------------- ES9+ cancelSession

    def cancel_session(self, ctx, body):
        """SGP.22 5.6.5 (JSON: 6.5.2.10): BF41 { A0 { 30 {80 txid, 81 smdpOid, 82 reason}, 5F37 } }"""
        txid = self.field_txid(body)
        raw = self.field_b64(body, "cancelSessionResponse")
        s = self.session(ctx, txid)
        bf41 = self.parse_der(raw, 0xBF41, "cancelSessionResponse")
        rec = {"transactionId": ctx.txid, "valid": False}
        try:
            alt = bf41.children()[0]
            if alt.tag != 0xA0:
                code = int.from_bytes(alt.value, "big") if alt.value else None
                rec.update(error="cancelSessionResponseError %s" % code)
                self.event("cancelSession", **rec)
                raise ApiError("8.1", "6.1", "eUICC returned cancelSessionResponseError %s" % code)
            parts = alt.children()
            if len(parts) < 2 or parts[0].tag != 0x30 or parts[1].tag != 0x5F37:
                raise DerError("CancelSessionResponseOk must be 30 5F37")
            signed, sig = parts[0], parts[1]
            c = {x.tag: x for x in signed.children()}
            rec["reason"] = int.from_bytes(c[0x82].value, "big") if 0x82 in c else None
            oid = oid_decode(c[0x81].value) if 0x81 in c else None
            rec["smdpOid"] = oid
        except (DerError, IndexError) as e:
            rec["error"] = str(e)
            self.event("cancelSession", **rec)
            raise ApiError("1.3.1", "2.1", "cancelSessionResponse: %s" % e)
        if s.euicc_cert is None or not ecdsa_verify_raw(s.euicc_cert.public_key(), sig.value, signed.raw):
            rec["error"] = "euiccCancelSessionSignature invalid"
            self.event("cancelSession", **rec)
            raise ApiError("8.1", "6.1", "eUICC signature is invalid")
        if c.get(0x80) is None or c[0x80].value != txid:
            rec["error"] = "signed transactionId mismatch"
            self.event("cancelSession", **rec)
            raise ApiError("8.10.1", "3.9", "signed transactionId != transactionId")
        if oid != self.pki.smdp_oid:
            rec["error"] = "smdpOid mismatch"
            self.event("cancelSession", **rec)
            raise ApiError("8.8", "3.10", "The provided SM-DP+ OID is invalid")
        rec["valid"] = True
        self.event("cancelSession", **rec)
        if s.order is not None and s.order.state == "downloaded":
            s.order.state = "released"
            self.event("order", matching_id=s.order.matching_id, state=s.order.state)
        self.forget(s, "cancelled")
        return Response(200, {"header": ok_header()})

    # ------------------------------------------------------------------ dispatch

    HANDLERS = {
        "initiateAuthentication": "initiate_authentication",
        "authenticateClient": "authenticate_client",
        "getBoundProfilePackage": "get_bound_profile_package",
        "handleNotification": "handle_notification",
        "cancelSession": "cancel_session",
    }

    def dispatch(self, ctx, body):
        with self.lock:
            try:
                if not isinstance(body, dict):
                    raise ApiError("1.3.1", "2.1", "request body must be a JSON object", http=400)
                self.pick_global_mb(ctx)
                self.check_failed_status(ctx)
                r = getattr(self, self.HANDLERS[ctx.function])(ctx, body)
                r.log.setdefault("status", "Executed-Success")
                return r
            except ApiError as e:
                return error_response(e)
            except Exception as e:      # a server bug: answer 500 and keep the traceback in the log
                import traceback
                self.event("internal-error", function=ctx.function, error=repr(e),
                           traceback=traceback.format_exc())
                r = Response(500, body=b"internal error\n", headers=[("Content-Type", "text/plain")])
                r.log.update(status="internal-error", message=repr(e))
                return r

    # ------------------------------------------------------------------ admin

    def state_snapshot(self):
        with self.lock:
            return {"orders": [o.summary() for o in self.orders],
                    "sessions": len(self.sessions),
                    "misbehave": self.global_mb.describe() if self.global_mb else None,
                    "held": [f for f, _ in self.holds],
                    "events": list(self.events)}

    def hold_begin(self, function):
        ev = threading.Event()
        with self.lock:
            self.holds.append((function, ev))
        self.event("held", function=function)
        return ev

    def hold_end(self, ev):
        with self.lock:
            self.holds = [h for h in self.holds if h[1] is not ev]

    def release_holds(self):
        with self.lock:
            n = len(self.holds)
            for _, ev in self.holds:
                ev.set()
        self.event("released", count=n)
        return n

    def reset(self, body):
        with self.lock:
            for o in self.orders:
                o.state, o.cc_attempts = "released", 0
            self.sessions.clear()
            self.expired.clear()
            self.last_delivered = None
            if body.get("misbehave", True):
                self.global_mb = None
            if body.get("events", True):
                self.events.clear()
            self.event("reset")

    def add_orders(self, spec):
        if isinstance(spec, dict):
            spec = spec.get("orders", [spec])
        new = [Order(d, os.getcwd(), {"cc_max_attempts": self.args.cc_max_attempts}) for d in spec]
        with self.lock:
            for o in new:
                self.orders = [x for x in self.orders if not (o.matching_id and x.matching_id == o.matching_id)]
                self.orders.append(o)
            self.event("orders-added", matching_ids=[o.matching_id for o in new])
        return new


def now_iso():
    return datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ==========================================================================
# 9. HTTP(S) layer
# ==========================================================================

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "esimctl-test-smdpp/1"
    timeout = 120             # idle keep-alive connections
    wbufsize = -1             # buffer headers + body into one write (no Nagle/delayed-ACK stalls)

    core = None               # set by make_server
    admin_only = False

    def log_message(self, fmt, *args):      # silence the default stderr log
        if self.core and self.core.args.verbose:
            sys.stderr.write("smdpp-http: %s\n" % (fmt % args))

    # ---------------------------------------------------------------- I/O

    def handle_expect_100(self):
        """Send "100 Continue" at once (wfile is buffered, see wbufsize)."""
        self.send_response_only(100)
        self.end_headers()
        self.wfile.flush()
        return True

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(100)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + n > MAX_REQUEST_BODY:
                    raise ValueError("body too large")
                out += self.rfile.read(n)
                self.rfile.readline(10)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_REQUEST_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def send_plain(self, resp, extra_close=False):
        body = resp.encode()
        self.send_response(resp.http)
        ctype_set = False
        for k, v in resp.headers:
            self.send_header(k, v)
            ctype_set |= k.lower() == "content-type"
        if resp.http != 204:
            if not ctype_set and body:
                self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Admin-Protocol", ADMIN_PROTOCOL)
        if extra_close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if resp.http != 204 and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def raw_response_bytes(self, resp):
        """The full HTTP response as bytes (for the trickle mode)."""
        body = resp.encode()
        lines = ["HTTP/1.1 %d %s" % (resp.http, self.responses.get(resp.http, ("",))[0]),
                 "Server: %s" % self.version_string(), "Date: %s" % self.date_time_string(),
                 "Content-Type: application/json;charset=UTF-8", "Content-Length: %d" % len(body),
                 "X-Admin-Protocol: %s" % ADMIN_PROTOCOL, "Connection: close"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def peer_gone(self):
        """True if the client closed its side (used by stall/trickle)."""
        try:
            p = select.poll()
            p.register(self.connection.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
            return any(ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR) for _, ev in p.poll(0))
        except (OSError, ValueError):
            return True

    # ------------------------------------------------------------- dispatch

    def do_GET(self):
        if self.path.split("?")[0] == "/test/state":
            return self.send_admin(200, self.core.state_snapshot())
        if self.path.split("?")[0] == "/test/modes":
            return self.send_admin(200, {k: {"functions": list(v[0]), "description": v[1]}
                                         for k, v in MODES.items()})
        self.send_admin(404 if not self.path.startswith(ES9_PREFIX) else 405, {"error": "not found"})

    def do_PUT(self):
        self.send_admin(405, {"error": "method not allowed"})

    do_DELETE = do_PATCH = do_PUT

    def send_admin(self, code, obj):
        self.send_plain(Response(code, obj))

    def do_POST(self):
        path = self.path.split("?")[0]
        try:
            raw = self.read_body()
        except (ValueError, OSError) as e:
            self.send_plain(Response(413, {"error": str(e)}), extra_close=True)
            return
        if path.startswith("/test/"):
            return self.admin_post(path, raw)
        if self.admin_only or not path.startswith(ES9_PREFIX) or path[len(ES9_PREFIX):] not in ES9_FUNCTIONS:
            self.send_admin(404, {"error": "no such function"})
            self.core.log_request({"path": path, "http": 404})
            return
        function = path[len(ES9_PREFIX):]
        t0 = time.monotonic()
        ctx = Ctx(function)
        resp = self.es9(ctx, raw)
        log = {"function": function, "http": resp.http, "transactionId": ctx.txid,
               "misbehave": ctx.mb.mode if ctx.mb else None}
        log.update({k: v for k, v in resp.log.items() if v is not None})
        try:
            delivered = self.deliver(ctx, resp, log)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout, OSError) as e:
            delivered = False
            log["client_error"] = str(e) or e.__class__.__name__
            self.close_connection = True
        log["delivered"] = delivered
        log["ms"] = int((time.monotonic() - t0) * 1000)
        if ctx.order is not None:
            log["matching_id"] = ctx.order.matching_id
        self.core.log_request(log)

    def es9(self, ctx, raw):
        """Header checks (SGP.22 6.5.1), JSON decoding, then the function."""
        proto = self.headers.get("X-Admin-Protocol") or ""
        ctype = (self.headers.get("Content-Type") or "").lower()
        if not proto.startswith("gsma/rsp/v"):
            return error_response(ApiError("1.2.1", "2.2", "X-Admin-Protocol missing or not gsma/rsp/v*",
                                           http=400))
        if not ctype.startswith("application/json"):
            return error_response(ApiError("1.2.1", "2.1", "Content-Type must be application/json", http=400))
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            return error_response(ApiError("1.2.1", "2.1", "invalid JSON: %s" % e, http=400))
        return self.core.dispatch(ctx, body)

    # ------------------------------------------------------ HTTP misbehaviour

    def deliver(self, ctx, resp, log):
        mode = ctx.mb.mode if ctx.mb and ctx.mb.mode in HTTP_MODES else None
        p = ctx.mb.params if ctx.mb else {}
        if mode is None:
            self.send_plain(resp)
            return True
        if mode == "malformed-json":
            full = resp.encode() or b'{"header":{"functionExecutionStatus":{"status":"Executed-Success"}}}'
            cut = Response(200, body=full[:max(1, len(full) // 2)])
            self.send_plain(cut)
            return True
        if mode == "invalid-base64":
            if isinstance(resp.obj, dict):
                obj = dict(resp.obj)
                for k in obj:
                    if k not in ("header", "transactionId"):
                        obj[k] = "*** not base64 ***" + obj[k][:8]
                resp = Response(resp.http, obj)
            self.send_plain(resp)
            return True
        if mode in ("http-500", "http-status"):
            code = 500 if mode == "http-500" else int(p.get("status", 503))
            self.send_plain(Response(code, body=b"test server error\n", headers=[("Content-Type", "text/plain")]))
            return True
        if mode == "redirect":
            loc = p.get("location", "https://redirect.example.com" + self.path)
            self.send_plain(Response(int(p.get("status", 302)), body=b"", headers=[("Location", loc)]))
            return True
        if mode == "stall":
            secs = min(float(p.get("seconds", 60)), 60.0)
            t_end = time.monotonic() + secs
            while time.monotonic() < t_end:
                if self.peer_gone():
                    log["stall_aborted_after"] = round(secs - (t_end - time.monotonic()), 2)
                    self.close_connection = True
                    return False
                time.sleep(0.05)
            self.send_plain(resp)
            return True
        if mode == "hold":
            ev = self.core.hold_begin(ctx.function)
            t_end = time.monotonic() + min(float(p.get("seconds", 300)), 300.0)
            try:
                while not ev.is_set():
                    if self.peer_gone() or time.monotonic() > t_end:
                        log["hold_aborted"] = True
                        self.close_connection = True
                        return False
                    ev.wait(0.02)
            finally:
                self.core.hold_end(ev)
            self.send_plain(resp)
            return True
        if mode == "trickle":
            data = self.raw_response_bytes(resp)
            interval = max(float(p.get("interval", 0.1)), 0.001)
            t_end = time.monotonic() + min(float(p.get("max_seconds", 60)), 60.0)
            max_bytes = int(p.get("max_bytes", len(data)))
            self.close_connection = True
            for i in range(len(data)):
                if i >= max_bytes or time.monotonic() > t_end or self.peer_gone():
                    log["trickle_sent"] = i
                    return False
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                time.sleep(interval)
            log["trickle_sent"] = len(data)
            return True
        if mode == "oversized-body":
            total = min(int(p.get("bytes", 64 * 1024 * 1024)), 256 * 1024 * 1024)
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("X-Admin-Protocol", ADMIN_PROTOCOL)
            if p.get("content_length"):
                self.send_header("Content-Length", str(total))
            self.send_header("Connection", "close")
            self.close_connection = True
            self.end_headers()
            head = b'{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"x":"'
            chunk = b"A" * 65536
            sent = 0
            data = head
            while sent < total:
                piece = (data + chunk)[:total - sent]
                data = b""
                self.wfile.write(piece)
                sent += len(piece)
            self.wfile.flush()
            log["oversized_sent"] = sent
            return True
        self.send_plain(resp)
        return True

    # --------------------------------------------------------------- admin

    def admin_post(self, path, raw):
        try:
            body = json.loads(raw.decode() or "{}")
        except ValueError as e:
            return self.send_admin(400, {"error": "invalid JSON: %s" % e})
        try:
            if path == "/test/misbehave":
                mb = self.core.set_misbehave(body if body else {"mode": "none"})
                return self.send_admin(200, {"ok": True, "misbehave": mb.describe() if mb else None})
            if path == "/test/reset":
                self.core.reset(body if isinstance(body, dict) else {})
                return self.send_admin(200, {"ok": True})
            if path == "/test/release":
                return self.send_admin(200, {"ok": True, "released": self.core.release_holds()})
            if path == "/test/orders":
                new = self.core.add_orders(body)
                return self.send_admin(200, {"ok": True, "orders": [o.summary() for o in new]})
        except (ValueError, KeyError, TypeError, OSError) as e:
            return self.send_admin(400, {"error": str(e)})
        self.send_admin(404, {"error": "unknown admin endpoint"})


class TlsThreadingServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that performs the TLS handshake in the worker
    thread (a slow or failing client never blocks accept())."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, tls_ctx, core, tls13_first=False):
        self.tls_ctx = tls_ctx
        self.core = core
        self.tls13_first = tls13_first
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        conn = request
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.tls_ctx is not None:
            request.settimeout(15)
            if self.tls13_first and refuse_tls13_hello(request):
                self.core.event("tls-handshake-failed", peer="%s:%d" % client_address,
                                error="client offered TLS 1.3 without a brainpool TLS 1.3 "
                                      "signature scheme (RFC 8734): handshake failure")
                return
            try:
                conn = self.tls_ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.core.event("tls-handshake-failed", error=str(e), peer="%s:%d" % client_address)
                return
            conn.settimeout(None)
            # One record per completed handshake: what a client's connection reuse and
            # protocol version look like from the server side.
            self.core.event("tls-handshake", version=conn.version(), cipher=conn.cipher()[0],
                            peer="%s:%d" % client_address)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            if conn is not request:
                try:
                    conn.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        if self.core.args.verbose:
            super().handle_error(request, client_address)


def client_hello_offers(sock):
    """Peek at the ClientHello on sock (nothing is consumed): (TLS 1.3 offered, the
    signature schemes offered), or None when it cannot be read."""
    data = b""
    for _ in range(50):
        try:
            data = sock.recv(16384 + 5, socket.MSG_PEEK)
        except OSError:
            return None
        if len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[3:5], "big"):
            break
        if not data:
            return None
        time.sleep(0.02)
    try:
        if data[0] != 0x16 or data[5] != 0x01:
            return None
        p = 5 + 4 + 2 + 32
        p += 1 + data[p]                                        # session_id
        p += 2 + int.from_bytes(data[p:p + 2], "big")           # cipher_suites
        p += 1 + data[p]                                        # compression_methods
        end = p + 2 + int.from_bytes(data[p:p + 2], "big")
        p += 2
        tls13, schemes = False, set()
        while p + 4 <= end:
            etype, elen = int.from_bytes(data[p:p + 2], "big"), int.from_bytes(data[p + 2:p + 4], "big")
            body = data[p + 4:p + 4 + elen]
            if etype == 0x002B:                                 # supported_versions
                tls13 = any(body[i:i + 2] == b"\x03\x04" for i in range(1, len(body), 2))
            elif etype == 0x000D:                               # signature_algorithms
                schemes = {int.from_bytes(body[i:i + 2], "big") for i in range(2, len(body), 2)}
            p += 4 + elen
        return tls13, schemes
    except IndexError:
        return None


# ecdsa_brainpoolP{256,384,512}r1tls13_sha{256,384,512} (RFC 8734 section 3)
BRAINPOOL_TLS13_SCHEMES = {0x081A, 0x081B, 0x081C}


def refuse_tls13_hello(sock):
    """A brainpool SM-DP+ on a TLS stack that chooses TLS 1.3 whenever the client offers
    it and signs with the RFC 8734 brainpool schemes (OpenSSL 3.2 and later): a client
    that offers TLS 1.3 but none of those schemes (OpenSSL 3.0) gets a handshake_failure
    alert, as such a server sends.  Python's ssl on OpenSSL 3.0 would quietly fall back to
    TLS 1.2 instead, hiding a client that does not cap ES9+ at TLS 1.2."""
    offer = client_hello_offers(sock)
    if offer is None or not offer[0] or offer[1] & BRAINPOOL_TLS13_SCHEMES:
        return False
    try:
        sock.sendall(b"\x15\x03\x03\x00\x02\x02\x28")       # alert: fatal, handshake_failure
    except OSError:
        pass
    return True


def tls_key_is_brainpool(key_pem):
    from cryptography.hazmat.primitives import serialization as _ser
    with open(key_pem, "rb") as f:
        key = _ser.load_pem_private_key(f.read(), password=None)
    curve = getattr(key, "curve", None)
    return curve is not None and curve.name.startswith("brainpool")


def make_tls_context(cert, key):
    # TLS 1.2 and 1.3 on offer, as public servers do: a client that does not cap ES9+ at
    # TLS 1.2 (SGP.22 section 2.6.6) gets 1.3.  With a brainpool certificate, see
    # refuse_tls13_hello().
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    return ctx


def main(argv=None):
    ap = argparse.ArgumentParser(description="esimctl test SM-DP+ (ES9+). See README.md.")
    ap.add_argument("--pki", required=True, help="mkpki.py output dir (manifest.json) or an SGP.26 tree")
    ap.add_argument("--curve", choices=("nist", "brp"), default="nist", help="only for SGP.26 trees")
    ap.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    ap.add_argument("--host", default=None, help="SM-DP+ address (default: manifest host or %s)" % DEFAULT_HOST)
    ap.add_argument("--notify-address", default=None, help="address put in metadata B6 (default: --host)")
    ap.add_argument("--host-id", default="ESIMCTL-TEST-DP", help="hostId in the BF23 CRT (1..16 bytes)")
    ap.add_argument("--tls-cert", default=None, help="override the DP TLS certificate (PEM)")
    ap.add_argument("--tls-key", default=None, help="override the DP TLS key (PEM)")
    ap.add_argument("--no-tls", action="store_true", help="plain HTTP (debugging only)")
    ap.add_argument("--profiles", default=None, help="download orders SPEC (JSON); see README.md")
    ap.add_argument("--upp-dir", default=None, help="fallback: matchingId X -> DIR/X.der (like osmo-smdpp)")
    ap.add_argument("--state", default=None, help="JSON-lines journal of events (notifications, cancels, ...)")
    ap.add_argument("--log", default=None, help="JSON-lines log of every request (and every event)")
    ap.add_argument("--misbehave", default=None, help="MODE[:k=v,...] or JSON; see README.md")
    ap.add_argument("--ttl", type=float, default=300.0, help="transaction time-to-live in seconds")
    ap.add_argument("--cc-max-attempts", type=int, default=3)
    ap.add_argument("--admin-port", type=int, default=None, help="also serve /test/* over plain HTTP")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)

    pki = Pki(args.pki, args.curve)
    args.host = args.host or pki.host or DEFAULT_HOST
    if not 1 <= len(args.host_id.encode()) <= 16:
        ap.error("--host-id must be 1..16 bytes")
    defaults = {"cc_max_attempts": args.cc_max_attempts}
    try:
        orders = (load_orders(args.profiles, defaults) if args.profiles
                  else [Order(d, ".", defaults) for d in DEFAULT_ORDERS])
        core = SmdpCore(args, pki, orders)
    except (ValueError, OSError, KeyError) as e:
        print("smdpp: bad configuration: %s" % e, file=sys.stderr)
        return 2

    tls_ctx = None
    tls13_first = False
    if not args.no_tls:
        tls_ctx = make_tls_context(args.tls_cert or pki.tls_cert, args.tls_key or pki.tls_key)
        tls13_first = tls_key_is_brainpool(args.tls_key or pki.tls_key)
    handler = type("BoundHandler", (Handler,), {"core": core})
    httpd = TlsThreadingServer(("127.0.0.1", args.port), handler, tls_ctx, core, tls13_first)
    core.port = httpd.server_address[1]
    admin = None
    if args.admin_port is not None:
        ah = type("AdminHandler", (Handler,), {"core": core, "admin_only": True})
        admin = TlsThreadingServer(("127.0.0.1", args.admin_port), ah, None, core)
        threading.Thread(target=admin.serve_forever, daemon=True).start()
        print("ADMIN %d" % admin.server_address[1], flush=True)

    def stop(*_):
        threading.Thread(target=httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    core.event("start", port=core.port, host=args.host, misbehave=core.global_mb.describe() if core.global_mb
               else None, orders=[o.matching_id for o in orders])
    print("READY %d" % core.port, flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
        if admin:
            admin.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
