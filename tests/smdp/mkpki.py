#!/usr/bin/python3
"""mkpki.py -- generate an SGP.26-like test PKI for the esimctl test SM-DP+.

Usage:
    /usr/bin/python3 tests/smdp/mkpki.py OUTDIR --curve nist|brp
        [--host testsmdpplus1.example.com] [--eid EID] [--eid2 EID]
        [--tls-curve nist|brp] [--untrusted-ci] [--wrong-host [NAME]]
        [--expired-tls] [--second-euicc] [--negative] [--all]

Everything is generated fresh with python3-cryptography (Debian 12, 38.x); no
key material is shared with the GSMA SGP.26 files.  The layout and file names
mirror SGP.26 (see the sgp26 README of the shared test data) so the same tests
can run against either tree:

    CertificateIssuer/CERT_CI_ECDSA_<C>.{der,pem}  SK_CI_ECDSA_<C>.pem
    EUM/CERT_EUM_ECDSA_<C>.{der,pem}               SK_EUM_ECDSA_<C>.pem
    eUICC/CERT_EUICC_ECDSA_<C>.{der,pem}           SK_EUICC_ECDSA_<C>.pem
    DPauth/CERT_S_SM_DPauth_ECDSA_<C>.{der,pem}    SK_S_SM_DPauth_ECDSA_<C>.pem
    DPpb/CERT_S_SM_DPpb_ECDSA_<C>.{der,pem}        SK_S_SM_DPpb_ECDSA_<C>.pem
    DPtls/CERT_S_SM_DP_TLS_<T>.{der,pem}           SK_S_SM_DP_TLS_<T>.pem

<C> is NIST or BRP (the hierarchy curve), <T> the TLS key curve.  All private
keys are PKCS#8 PEM, all certificates exist in PEM and DER.  manifest.json in
OUTDIR lists every file (paths relative to OUTDIR) plus the EIDs, SKIs, host
and SM-DP+ OID; smdpp.py reads it with --pki OUTDIR.

Certificate profiles (SGP.22 section 4.5 as the public implementations
read it, and the SGP.26 certificates):

  CI      self-signed, CA, keyUsage keyCertSign+cRLSign, SKI,
          policy 2.23.146.1.2.1.0, SAN RID 2.999.1
  EUM     signed by CI, CA pathlen 0, keyCertSign, AKI/SKI,
          policy 2.23.146.1.2.1.2, nameConstraints permitted
          DirectoryName "O=..., serialNumber=<EID IIN (8 digits)>"
  eUICC   signed by EUM, subject C/O/serialNumber=EID/CN, digitalSignature,
          policy 2.23.146.1.2.1.1, AKI/SKI
  DPauth  signed by CI, digitalSignature, policy 2.23.146.1.2.1.4,
          SAN registeredID 2.999.10
  DPpb    signed by CI, digitalSignature, policy 2.23.146.1.2.1.5, same SAN
  DP TLS  signed by CI, digitalSignature, EKU serverAuth(+clientAuth),
          policy 2.23.146.1.2.1.3, SAN DNS:<host> + RID 2.999.10

Extras (each option, or --all for every one of them):
  --untrusted-ci   untrusted/: a second CI (same subject DN as the real CI but
                   another key) and a DP TLS cert for <host> signed by it
  --wrong-host     DPtls/CERT_S_SM_DP_TLS_<T>_WRONGHOST: valid chain, but for
                   another host name (default wronghost.example.com)
  --expired-tls    DPtls/CERT_S_SM_DP_TLS_<T>_EXPIRED: valid chain, expired
  --second-euicc   eUICC/CERT_EUICC2_ECDSA_<C>: another EID under the same EUM
  --negative       eUICC/CERT_EUICC_BADEID_ECDSA_<C> (EID outside the EUM
                   prefix) and eUICC/CERT_EUICC_EXPIRED_ECDSA_<C> (expired)

The extra TLS certificates reuse the DP TLS key, so they can be swapped in with
smdpp.py --tls-cert FILE --tls-key DPtls/SK_S_SM_DP_TLS_<T>.pem.
"""

import argparse
import datetime
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# id-rspRole (SGP.22 section 4.5.2.1.0.x)
OID_ROLE_CI = "2.23.146.1.2.1.0"
OID_ROLE_EUICC = "2.23.146.1.2.1.1"
OID_ROLE_EUM = "2.23.146.1.2.1.2"
OID_ROLE_DP_TLS = "2.23.146.1.2.1.3"
OID_ROLE_DP_AUTH = "2.23.146.1.2.1.4"
OID_ROLE_DP_PB = "2.23.146.1.2.1.5"
OID_SMDP = "2.999.10"      # SM-DP+ OID used by SGP.26 (SAN registeredID)
OID_CI_RID = "2.999.1"
OID_EUM_RID = "2.999.5"

DEFAULT_EID = "89049032123451234512345678901235"
DEFAULT_HOST = "testsmdpplus1.example.com"

CURVES = {"nist": (ec.SECP256R1, "NIST"), "brp": (ec.BrainpoolP256R1, "BRP")}


# --------------------------------------------------------------------------
# EID helpers (SGP.29 check digits: EID as an integer mod 97 == 1)
# --------------------------------------------------------------------------

def eid_valid(eid):
    return len(eid) == 32 and eid.isdigit() and int(eid) % 97 == 1


def eid_with_check_digits(first30):
    """Append the two SGP.29 check digits to a 30-digit EID prefix."""
    n = int(first30 + "00")
    return first30 + "%02d" % (98 - n % 97)


def derive_eid(eid, iin=None, bump=1):
    """Derive another valid EID from EID: optionally replace the 8-digit IIN,
    then add BUMP to the individual identification number."""
    body = eid[:30]
    if iin is not None:
        body = iin + body[8:]
    tail = int(body[18:]) + bump
    body = body[:18] + ("%012d" % tail)[-12:]
    return eid_with_check_digits(body)


# --------------------------------------------------------------------------
# Certificate building
# --------------------------------------------------------------------------

def _now():
    return datetime.datetime.utcnow().replace(microsecond=0)


def _policies(oid):
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(oid), None)])


def _ski(key):
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _aki(issuer_key):
    ski = x509.SubjectKeyIdentifier.from_public_key(issuer_key.public_key())
    return x509.AuthorityKeyIdentifier(ski.digest, None, None)


def _ku(**kw):
    base = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False)
    base.update(kw)
    return x509.KeyUsage(**base)


def _build(subject, issuer, pubkey_of, issuer_key, not_before, not_after, exts):
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer)
         .public_key(pubkey_of.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(not_before).not_valid_after(not_after))
    for ext, critical in exts:
        b = b.add_extension(ext, critical)
    return b.sign(issuer_key, hashes.SHA256())


def _name(*pairs):
    return x509.Name([x509.NameAttribute(oid, val) for oid, val in pairs])


CI_NAME = _name((NameOID.COMMON_NAME, "esimctl Test CI"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "TESTCERT"),
                (NameOID.ORGANIZATION_NAME, "ESIMCTLTEST"), (NameOID.COUNTRY_NAME, "IT"))
EUM_ORG = "esimctl Test EUM"
EUM_NAME = _name((NameOID.COUNTRY_NAME, "ES"), (NameOID.ORGANIZATION_NAME, EUM_ORG),
                 (NameOID.COMMON_NAME, "EUM Test"))
DP_NAME = _name((NameOID.ORGANIZATION_NAME, "ACME"), (NameOID.COMMON_NAME, "TEST SM-DP+"))

FAR_FUTURE = datetime.datetime(9999, 12, 31, 23, 59, 59)   # RFC 5280 "no expiry"


def make_ci(curve):
    key = ec.generate_private_key(curve())
    nb = _now() - datetime.timedelta(days=1)
    cert = _build(CI_NAME, CI_NAME, key, key, nb, nb + datetime.timedelta(days=365 * 30), [
        (_ski(key), False),
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (_policies(OID_ROLE_CI), True),
        (_ku(key_cert_sign=True, crl_sign=True), True),
        (x509.SubjectAlternativeName([x509.RegisteredID(x509.ObjectIdentifier(OID_CI_RID))]), False),
    ])
    return key, cert


def make_eum(curve, ci_key, iin):
    key = ec.generate_private_key(curve())
    nb = _now() - datetime.timedelta(days=1)
    permitted = x509.DirectoryName(_name((NameOID.ORGANIZATION_NAME, EUM_ORG), (NameOID.SERIAL_NUMBER, iin)))
    cert = _build(EUM_NAME, CI_NAME, key, ci_key, nb, nb + datetime.timedelta(days=365 * 29), [
        (_aki(ci_key), False),
        (_ski(key), False),
        (_ku(key_cert_sign=True), True),
        (_policies(OID_ROLE_EUM), True),
        (x509.SubjectAlternativeName([x509.RegisteredID(x509.ObjectIdentifier(OID_EUM_RID))]), False),
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.NameConstraints(permitted_subtrees=[permitted], excluded_subtrees=None), True),
    ])
    return key, cert


def make_euicc(curve, eum_key, eid, expired=False, key=None):
    key = key or ec.generate_private_key(curve())
    subject = _name((NameOID.COUNTRY_NAME, "ES"), (NameOID.ORGANIZATION_NAME, EUM_ORG),
                    (NameOID.SERIAL_NUMBER, eid), (NameOID.COMMON_NAME, "Test eUICC"))
    if expired:
        nb, na = _now() - datetime.timedelta(days=400), _now() - datetime.timedelta(days=35)
    else:
        nb, na = _now() - datetime.timedelta(days=1), FAR_FUTURE
    cert = _build(subject, EUM_NAME, key, eum_key, nb, na, [
        (_aki(eum_key), False),
        (_ski(key), False),
        (_ku(digital_signature=True), True),
        (_policies(OID_ROLE_EUICC), True),
    ])
    return key, cert


def make_dp(curve, ci_key, policy):
    key = ec.generate_private_key(curve())
    nb = _now() - datetime.timedelta(days=1)
    cert = _build(DP_NAME, CI_NAME, key, ci_key, nb, nb + datetime.timedelta(days=365 * 10), [
        (_aki(ci_key), False),
        (_ski(key), False),
        (x509.SubjectAlternativeName([x509.RegisteredID(x509.ObjectIdentifier(OID_SMDP))]), False),
        (_ku(digital_signature=True), True),
        (_policies(policy), True),
    ])
    return key, cert


def make_tls(key, ci_key, ci_name, host, expired=False):
    if expired:
        nb, na = _now() - datetime.timedelta(days=60), _now() - datetime.timedelta(days=2)
    else:
        nb, na = _now() - datetime.timedelta(days=1), _now() + datetime.timedelta(days=365 * 3)
    subject = _name((NameOID.ORGANIZATION_NAME, "ACME"), (NameOID.COMMON_NAME, host))
    return _build(subject, ci_name, key, ci_key, nb, na, [
        (_ku(digital_signature=True), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), True),
        (_policies(OID_ROLE_DP_TLS), False),
        (_ski(key), False),
        (_aki(ci_key), False),
        (x509.SubjectAlternativeName([x509.DNSName(host),
                                      x509.RegisteredID(x509.ObjectIdentifier(OID_SMDP))]), False),
    ])


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

class Writer:
    def __init__(self, outdir):
        self.outdir = outdir
        self.manifest = {}

    def _path(self, rel):
        p = os.path.join(self.outdir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def key(self, rel, key):
        with open(self._path(rel), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        os.chmod(self._path(rel), 0o600)
        return rel

    def cert(self, rel_noext, cert):
        with open(self._path(rel_noext + ".der"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.DER))
        with open(self._path(rel_noext + ".pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        return rel_noext + ".pem", rel_noext + ".der"

    def entry(self, name, cert_rel, cert, key_rel=None, **extra):
        pem, der = self.cert(cert_rel, cert)
        e = {"cert_pem": pem, "cert_der": der}
        if key_rel:
            e["key_pem"] = key_rel
        try:
            e["ski"] = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex().upper()
        except x509.ExtensionNotFound:
            pass
        e["not_after"] = cert.not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ")
        e.update(extra)
        self.manifest[name] = e
        return e


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate an SGP.26-like test PKI (see module docstring).")
    ap.add_argument("outdir")
    ap.add_argument("--curve", choices=sorted(CURVES), default="nist")
    ap.add_argument("--tls-curve", choices=sorted(CURVES), default=None,
                    help="curve of the DP TLS key (default: same as --curve)")
    ap.add_argument("--host", default=DEFAULT_HOST, help="DNS name in the DP TLS certificate")
    ap.add_argument("--eid", default=DEFAULT_EID, help="EID of the test eUICC (32 digits, mod 97 == 1)")
    ap.add_argument("--eid2", default=None, help="EID of the second eUICC (default: derived)")
    ap.add_argument("--untrusted-ci", action="store_true")
    ap.add_argument("--wrong-host", nargs="?", const="wronghost.example.com", default=None, metavar="NAME")
    ap.add_argument("--expired-tls", action="store_true")
    ap.add_argument("--second-euicc", action="store_true")
    ap.add_argument("--negative", action="store_true")
    ap.add_argument("--all", action="store_true", help="all of the extras above")
    a = ap.parse_args(argv)

    if a.all:
        a.untrusted_ci = a.expired_tls = a.second_euicc = a.negative = True
        a.wrong_host = a.wrong_host or "wronghost.example.com"
    if not eid_valid(a.eid):
        ap.error("--eid must be 32 digits with valid check digits (EID mod 97 == 1)")
    eid2 = a.eid2 or derive_eid(a.eid)
    if not eid_valid(eid2) or eid2[:8] != a.eid[:8] or eid2 == a.eid:
        ap.error("--eid2 must be a different valid EID with the same 8-digit IIN")

    curve, C = CURVES[a.curve]
    tcurve, T = CURVES[a.tls_curve or a.curve]
    iin = a.eid[:8]
    w = Writer(a.outdir)
    os.makedirs(a.outdir, exist_ok=True)

    ci_key, ci = make_ci(curve)
    w.entry("ci", "CertificateIssuer/CERT_CI_ECDSA_" + C, ci, w.key("CertificateIssuer/SK_CI_ECDSA_%s.pem" % C, ci_key))

    eum_key, eum = make_eum(curve, ci_key, iin)
    w.entry("eum", "EUM/CERT_EUM_ECDSA_" + C, eum, w.key("EUM/SK_EUM_ECDSA_%s.pem" % C, eum_key), eid_prefix=iin)

    euicc_key, euicc = make_euicc(curve, eum_key, a.eid)
    w.entry("euicc", "eUICC/CERT_EUICC_ECDSA_" + C, euicc,
            w.key("eUICC/SK_EUICC_ECDSA_%s.pem" % C, euicc_key), eid=a.eid)

    k, c = make_dp(curve, ci_key, OID_ROLE_DP_AUTH)
    w.entry("dpauth", "DPauth/CERT_S_SM_DPauth_ECDSA_" + C, c, w.key("DPauth/SK_S_SM_DPauth_ECDSA_%s.pem" % C, k))
    k, c = make_dp(curve, ci_key, OID_ROLE_DP_PB)
    w.entry("dppb", "DPpb/CERT_S_SM_DPpb_ECDSA_" + C, c, w.key("DPpb/SK_S_SM_DPpb_ECDSA_%s.pem" % C, k))

    tls_key = ec.generate_private_key(tcurve())
    tls_key_rel = w.key("DPtls/SK_S_SM_DP_TLS_%s.pem" % T, tls_key)
    w.entry("dptls", "DPtls/CERT_S_SM_DP_TLS_" + T, make_tls(tls_key, ci_key, CI_NAME, a.host),
            tls_key_rel, host=a.host)

    if a.untrusted_ci:
        uci_key, uci = make_ci(curve)       # same DN as the real CI, different key
        w.entry("untrusted_ci", "untrusted/CERT_CI_ECDSA_" + C, uci,
                w.key("untrusted/SK_CI_ECDSA_%s.pem" % C, uci_key))
        w.entry("untrusted_tls", "untrusted/CERT_S_SM_DP_TLS_" + T,
                make_tls(tls_key, uci_key, CI_NAME, a.host), tls_key_rel, host=a.host)
    if a.wrong_host:
        w.entry("wronghost_tls", "DPtls/CERT_S_SM_DP_TLS_%s_WRONGHOST" % T,
                make_tls(tls_key, ci_key, CI_NAME, a.wrong_host), tls_key_rel, host=a.wrong_host)
    if a.expired_tls:
        w.entry("expired_tls", "DPtls/CERT_S_SM_DP_TLS_%s_EXPIRED" % T,
                make_tls(tls_key, ci_key, CI_NAME, a.host, expired=True), tls_key_rel, host=a.host)
    if a.second_euicc:
        k2, c2 = make_euicc(curve, eum_key, eid2)
        w.entry("euicc2", "eUICC/CERT_EUICC2_ECDSA_" + C, c2,
                w.key("eUICC/SK_EUICC2_ECDSA_%s.pem" % C, k2), eid=eid2)
    if a.negative:
        # Reuse the main eUICC key so a software eUICC can still sign with it.
        bad_eid = derive_eid(a.eid, iin=("%08d" % ((int(iin) + 1) % 10 ** 8)))
        _, cb = make_euicc(curve, eum_key, bad_eid, key=euicc_key)
        w.entry("euicc_badeid", "eUICC/CERT_EUICC_BADEID_ECDSA_" + C, cb,
                w.manifest["euicc"]["key_pem"], eid=bad_eid)
        _, ce = make_euicc(curve, eum_key, a.eid, expired=True, key=euicc_key)
        w.entry("euicc_expired", "eUICC/CERT_EUICC_EXPIRED_ECDSA_" + C, ce,
                w.manifest["euicc"]["key_pem"], eid=a.eid)

    manifest = {
        "format": "esimctl-test-pki/1",
        "curve": a.curve,
        "tls_curve": a.tls_curve or a.curve,
        "host": a.host,
        "eid": a.eid,
        "smdp_oid": OID_SMDP,
        "note": "paths are relative to the directory holding this manifest",
    }
    manifest.update(w.manifest)
    with open(os.path.join(a.outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
