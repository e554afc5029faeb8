#!/usr/bin/python3
"""mkupp.py -- synthetic Unprotected Profile Package (UPP) generator.

Usage:
    /usr/bin/python3 tests/smdp/mkupp.py OUT.der --iccid 8949449999999990023
        [--size 4096] [--seed N] [--profile-type TEXT]
    /usr/bin/python3 tests/smdp/mkupp.py --show FILE.der   # print header info

A UPP is a plain DER stream of SIMalliance/TCA "eUICC Profile Package"
ProfileElements (SGP.22 section 2.5, SAIP PE_Definitions).  The synthetic one
is only meant to travel through the BPP (SGP.22 section 2.5.4) and to be
recognisable after decryption; it is not a usable SIM profile:

    A0 ProfileHeader  { 80 01 02 major-version
                        81 01 03 minor-version
                        82 .. profileType (UTF8String)
                        83 0A iccid: PLAIN BCD, F-padded, NOT nibble-swapped
                              (e.g. 89 49 44 99 99 99 99 90 02 3F for
                              8949449999999990023, as real TS.48 packages do)
                        A5 00 eUICC-Mandatory-services (empty)
                        A6 00 eUICC-Mandatory-GFSTEList (empty) }
    A9 PE-NonStandard { A0 {80 00 81 01 id} 06 issuerID 04 random bytes } *n
    AA PE-End         { A0 {80 00 81 01 id} }

The filler elements carry random bytes (deterministic with --seed) until the
whole package reaches --size bytes, so a 3-6 KB package spans several 86
segments (1007 plaintext bytes each).  The ICCID in the metadata (tag 5A in
StoreMetadataRequest) is swapped BCD; here it is plain BCD.

Also used as a module by smdpp.py (synthetic profiles) and selftest.py.
"""

import argparse
import random
import sys

FILLER_ISSUER_OID = bytes([0x88, 0x37, 0x0A])       # 2.999.10, arbitrary issuer id


# -- tiny DER helpers (local on purpose: this file stands alone) -------------

def _len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag, value):
    t = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    return t + _len(len(value)) + value


def _read_tlv(buf, off):
    """Return (tag_bytes, value_start, value_end) of the TLV at OFF."""
    start = off
    if buf[off] & 0x1F == 0x1F:
        off += 1
        while buf[off] & 0x80:
            off += 1
    off += 1
    tag = buf[start:off]
    n = buf[off]
    off += 1
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError("unsupported length form")
        n = int.from_bytes(buf[off:off + k], "big")
        off += k
    if off + n > len(buf):
        raise ValueError("TLV overruns buffer")
    return tag, off, off + n


# -- ICCID coding ------------------------------------------------------------

def iccid_plain_bcd(iccid):
    """ICCID digits -> 10 bytes plain BCD, F-padded (SAIP ProfileHeader)."""
    if not (iccid.isdigit() and 18 <= len(iccid) <= 20):
        raise ValueError("ICCID must be 18..20 digits: %r" % iccid)
    return bytes.fromhex(iccid.ljust(20, "F"))


def iccid_from_plain_bcd(b):
    return b.hex().upper().rstrip("F")


# -- building / inspecting ---------------------------------------------------

def pe_header(ident):
    return _tlv(0xA0, _tlv(0x80, b"") + _tlv(0x81, bytes([ident])))


def build_synthetic_upp(iccid, size=4096, seed=None, profile_type="esimctl synthetic test profile"):
    rng = random.Random(seed)
    header = _tlv(0xA0, _tlv(0x80, b"\x02") + _tlv(0x81, b"\x03")
                  + _tlv(0x82, profile_type.encode()) + _tlv(0x83, iccid_plain_bcd(iccid))
                  + _tlv(0xA5, b"") + _tlv(0xA6, b""))
    out = [header]
    total = len(header)
    ident = 1
    end_len = len(_tlv(0xAA, pe_header(0)))
    while True:
        room = size - total - end_len
        if room < 40:
            break
        n = min(rng.randint(300, 1500), room - 20)
        body = pe_header(ident) + _tlv(0x06, FILLER_ISSUER_OID) + _tlv(0x04, bytes(rng.getrandbits(8) for _ in range(n)))
        pe = _tlv(0xA9, body)
        if total + len(pe) + end_len > size:
            # shrink the last filler so the package lands on SIZE (best effort)
            over = total + len(pe) + end_len - size
            n = max(1, n - over)
            pe = _tlv(0xA9, pe_header(ident) + _tlv(0x06, FILLER_ISSUER_OID)
                      + _tlv(0x04, bytes(rng.getrandbits(8) for _ in range(n))))
        out.append(pe)
        total += len(pe)
        ident += 1
    out.append(_tlv(0xAA, pe_header(ident)))
    return b"".join(out)


def list_pes(upp):
    """[(tag_hex, offset, total_len)] of the top-level ProfileElements."""
    res, off = [], 0
    while off < len(upp):
        tag, vs, ve = _read_tlv(upp, off)
        res.append((tag.hex().upper(), off, ve - off))
        off = ve
    return res


def header_info(upp):
    """Parse the ProfileHeader (first PE, tag A0) -> dict."""
    tag, vs, ve = _read_tlv(upp, 0)
    if tag != b"\xA0":
        raise ValueError("first ProfileElement is not a ProfileHeader (A0)")
    info, off = {}, vs
    while off < ve:
        t, s, e = _read_tlv(upp, off)
        if t == b"\x80":
            info["major"] = int.from_bytes(upp[s:e], "big")
        elif t == b"\x81":
            info["minor"] = int.from_bytes(upp[s:e], "big")
        elif t == b"\x82":
            info["profile_type"] = upp[s:e].decode("utf-8", "replace")
        elif t == b"\x83":
            info["iccid"] = iccid_from_plain_bcd(upp[s:e])
            info["iccid_offset"] = s
        off = e
    return info


def replace_header_iccid(upp, iccid):
    """Return UPP with the header ICCID replaced (same 10-byte length, no re-encoding)."""
    off = header_info(upp)["iccid_offset"]
    return upp[:off] + iccid_plain_bcd(iccid) + upp[off + 10:]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Synthetic UPP generator (see module docstring).")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--iccid", default="8949449999999990023")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--profile-type", default="esimctl synthetic test profile")
    ap.add_argument("--show", metavar="FILE")
    a = ap.parse_args(argv)
    if a.show:
        with open(a.show, "rb") as f:
            upp = f.read()
        print(header_info(upp))
        for t, off, n in list_pes(upp):
            print("  PE %s at %d, %d bytes" % (t, off, n))
        return 0
    if not a.out:
        ap.error("OUT is required")
    upp = build_synthetic_upp(a.iccid, a.size, a.seed, a.profile_type)
    with open(a.out, "wb") as f:
        f.write(upp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
