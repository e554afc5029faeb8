#!/usr/bin/python3
"""Write the seed corpora in tests/fuzz/corpus/<target>/ (run with /usr/bin/python3).

Seeds are small valid samples plus edge cases, in the input format of each target
(tests/fuzz/fuzz_entry.h).  Sources: the examples in docs/ and examples/, the byte
fixtures of tests/unit/test_es9p.c and test_es10.c, the TEST-ONLY certificates in
tests/fuzz/identity/, and ES10 responses captured once from the software eUICC in the
state fuzz_soft_apdu starts from (CAPTURED below; they were printed with es10_transmit()
over the soft transport after fz_soft_apdu_init()).

Usage: tests/fuzz/mkseeds.py   (rewrites every corpus/<target>/ directory)
"""
import base64
import os
import shutil
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

CAPTURED = {
    'eid': (
        "BF3E125A1089049032123451234512345678901235"),
    'info1': (
        "BF20358203020202A9160414CDF8EEA07915976B82A97DA49BD007BE9103CC81AA160414CDF8EEA07915976B"
        "82A97DA49BD007BE9103CC81"),
    'info2': (
        "BF2277810302030182030202028303010000840D8101028204001E0000830220008503016802860309020087"
        "0302030088020490A9160414CDF8EEA07915976B82A97DA49BD007BE9103CC81AA160414CDF8EEA07915976B"
        "82A97DA49BD007BE9103CC8104030000010C0F544553542D534F46542D4555494343"),
    'challenge': (
        "BF2E128010A572EBBCEE63F727847517A8F64ECC99"),
    'addresses': (
        "BF3C28801566757A7A2E736D64702E6578616D706C652E636F6D810F6C70612E64732E67736D612E636F6D"),
    'profiles': (
        "BF2D81DDA081DAE3685A0A989444999999990920F34F10A0000005591010FFFFFFFF89000010009F70010191"
        "0D46757A7A204F70657261746F72920C46757A7A2050726F66696C65950102B61D301B800204F0811566757A"
        "7A2E736D64702E6578616D706C652E636F6DB705800362F210E36E5A0A980010325476981032144F10A00000"
        "05591010FFFFFFFF89000011009F7001009004776F726B910D46757A7A204F70657261746F72920C46757A7A"
        "2050726F66696C65950102B61D301B800204F0811566757A7A2E736D64702E6578616D706C652E636F6DB705"
        "800362F210"),
    'list_notif': (
        "BF28818AA08187BF2F2A800101810207800C1566757A7A2E736D64702E6578616D706C652E636F6D5A0A9894"
        "44999999990920F3BF2F2A800102810207800C1566757A7A2E736D64702E6578616D706C652E636F6D5A0A98"
        "001032547698103214BF2F2A800103810206400C1566757A7A2E736D64702E6578616D706C652E636F6D5A0A"
        "989444999999990920F3"),
    'retrieve': (
        "BF2B82061AA0820616BF3781ABBF27658010A0A1A2A3A4A5A6A7A8A9AAABACADAEAFBF2F2A80010181020780"
        "0C1566757A7A2E736D64702E6578616D706C652E636F6D5A0A989444999999990920F3060388370AA21FA01D"
        "4F10A0000005591010FFFFFFFF890000100004093007A00530038001005F3740A9C69D49312272D93E16651D"
        "8A5AF14077E99E6397E2FF62F3E7D0BA4D1ED905232309EC8DCCFAB5954E79D4E0926513098F49BD2BD6D6C6"
        "300341C222D480ABBF3781ABBF27658010A0A1A2A3A4A5A6A7A8A9AAABACADAEAFBF2F2A800102810207800C"
        "1566757A7A2E736D64702E6578616D706C652E636F6D5A0A98001032547698103214060388370AA21FA01D4F"
        "10A0000005591010FFFFFFFF890000110004093007A00530038001005F374087E8E7070EF652200277C2FE7A"
        "DBECC731BE1022CACC39B302F509E6023CC38D91E8E3FFB51F0998151DE920CFB6894DDD85F17B381F20B02A"
        "71A958D9B55B00308204B4BF2F2A800103810206400C1566757A7A2E736D64702E6578616D706C652E636F6D"
        "5A0A989444999999990920F35F37404BE0D0358FD8BD871F5C452930A4E4A0500B2CD53251A71AA00E459B3E"
        "24C9C2F9204207308320CFAF21BEBC453E152403E31795AB3257F6F50C033C7AF1E96430820215308201BBA0"
        "03020102020103300A06082A8648CE3D0403023046310B3009060355040613024553311F301D060355040A0C"
        "166573696D63746C2046555A5A2054455354204F4E4C593116301406035504030C0D46757A7A205465737420"
        "45554D3020170D3236313132313030343132395A180F32313236313032383030343132395A3073310B300906"
        "0355040613024553311F301D060355040A0C166573696D63746C2046555A5A2054455354204F4E4C59312930"
        "2706035504051320383930343930333231323334353132333435313233343536373839303132333531183016"
        "06035504030C0F46757A7A20546573742065554943433059301306072A8648CE3D020106082A8648CE3D0301"
        "0703420004F0F088CED2134B2A7A345A7721A24F4EA92F377FBC877ADE771CA153135622208B92976204AF47"
        "15252C34FF20B4F8BDBBEF2054C3B2FC33FBFD9367AD5F5D38A36B3069300E0603551D0F0101FF0404030207"
        "80301D0603551D0E041604145C1534BE77A499AE8800CE347B69DEBBA33A3B16301F0603551D230418301680"
        "14611A7E644F37F63B91A5AFE60BECBAB3BB7FC62530170603551D200101FF040D300B300906076781120102"
        "0101300A06082A8648CE3D0403020348003045022100F2F885FA99A533C657CB514024EAF8412E18B23B4CB6"
        "1ADE674508C01640983F02207C158BF7D69BAADF626B3CAE2BA9DE32446F28A294FDD83C786F77F9436E69D1"
        "30820227308201CCA003020102020102300A06082A8648CE3D0403023045310B300906035504061302455331"
        "1F301D060355040A0C166573696D63746C2046555A5A2054455354204F4E4C593115301306035504030C0C46"
        "757A7A20546573742043493020170D3236313132313030343132395A180F3231323631303238303034313239"
        "5A3046310B3009060355040613024553311F301D060355040A0C166573696D63746C2046555A5A2054455354"
        "204F4E4C593116301406035504030C0D46757A7A20546573742045554D3059301306072A8648CE3D02010608"
        "2A8648CE3D030107034200049EE82987C318406A470ED18CDF092E34A0028FDD0434245E89A5A7D9004C00D3"
        "8D2238DCAAF7C363A8BAB36A46376EAA3E5B4D00AA8869F5C228713E1F001762A381A93081A630120603551D"
        "130101FF040830060101FF020100300E0603551D0F0101FF040403020204301D0603551D0E04160414611A7E"
        "644F37F63B91A5AFE60BECBAB3BB7FC625301F0603551D23041830168014CDF8EEA07915976B82A97DA49BD0"
        "07BE9103CC8130170603551D200101FF040D300B300906076781120102010230270603551D1E0101FF041D30"
        "1BA0193017A41530133111300F060355040513083839303439303332300A06082A8648CE3D04030203490030"
        "460221009C81D0B77A09EE233DBDB6814B1BCDADE8A87B148EF5159B55DD5AA23F14077C022100B75B5FE08B"
        "3413D98D267BD9453DF9ED9CF00A2C61E1A8E2F79C3F2F52720997"),
    'rat': (
        "BF4302A000"),
    'pir_ok': (
        "BF3781ABBF27658010A0A1A2A3A4A5A6A7A8A9AAABACADAEAFBF2F2A800104810207800C1566757A7A2E736D"
        "64702E6578616D706C652E636F6D5A0A989444999999990930F1060388370AA21FA01D4F10A0000005591010"
        "FFFFFFFF890000120004093007A00530038001005F3740E91B9B91AA5367D1B6D8C2A9DAA9DCD1BEC2C05570"
        "75B753FCF4A2322EBB7A015151BA3C319D26615AE966CA9540CABDBB3B8B052971D49BE99421B98B445F13"),
    'pir_err': (
        "BF378188BF27428010A0A1A2A3A4A5A6A7A8A9AAABACADAEAFBF2F1E800105810207800C1566757A7A2E736D"
        "64702E6578616D706C652E636F6D060388370AA208A1068001028101095F3740CBBFBA2BE5F416955EF8A764"
        "BDFEE184787D4E7846F022D6A41F53D6CE370D0B391A15D79E87DC760B4C8372A3AB3FAAE87BEE70A048E9FB"
        "D8D3176303DAA618"),
}


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def cap_bytes(k):
    return h(CAPTURED[k])


def tlv(tag, value):
    t = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    elif n < 0x10000:
        ln = bytes([0x82]) + n.to_bytes(2, "big")
    else:
        ln = bytes([0x83]) + n.to_bytes(3, "big")
    return t + ln + value


def iccid_bcd(iccid):
    d = iccid + "F" * (20 - len(iccid))
    return bytes(int(d[i + 1], 16) << 4 | int(d[i], 16) for i in range(0, 20, 2))


def pem_der(name):
    with open(os.path.join(HERE, "identity", name)) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


class Corpus:
    def __init__(self, target):
        self.dir = os.path.join(CORPUS, target)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)

    def add(self, name, data):
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)


# ---- fuzz_actcode -------------------------------------------------------------------

def actcode():
    c = Corpus("fuzz_actcode")
    codes = {
        "valid-minimal": "LPA:1$rsp.example.com$ABC-123",
        "valid-no-prefix": "1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815",
        "valid-oid": "LPA:1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746",
        "valid-oid-cc": "LPA:1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746$1",
        "valid-empty-mid-oid": "1$rsp.example.com$$2.999.10$1",
        "valid-cc-no-oid": "LPA:1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$$1",
        "valid-port": "LPA:1$localhost:8443$A",
        "valid-ipv4": "1$127.0.0.1:8443$A",
        "valid-ext-fields": "1$rsp.example.com$A$$$EXT$MORE",
        "valid-spaces": "  lpa:1$RSP.Example.COM$QR-G-5C-1LS-1W1Z9P7\n",
        "valid-long-mid": "LPA:1$rsp.example.com$" + "M" * 255,
        "edge-empty": "",
        "edge-dollars": "1$$$..::-aZ09 \t\x7f\x80/_L",
        "edge-bad-version": "LPA:2$rsp.example.com$ABC-123",
        "edge-trailing-dollar": "1$rsp.example.com$A$",
        "edge-bad-oid": "1$rsp.example.com$A$3.1$1",
        "edge-port-overflow": "1$rsp.example.com:65536$A",
        "edge-ipv6": "1$[::1]:443$A",
        "edge-long-host": "1$" + ".".join(["a" * 63] * 4) + "$A",
        "edge-too-long": "LPA:1$rsp.example.com$" + "A" * 1100,
        "edge-utf8": "LPA:1$rsp.example.com$\u00e9\u00a0X",
        "edge-cc-0": "1$rsp.example.com$A$$0",
    }
    for k, v in codes.items():
        c.add(k, v)


# ---- fuzz_store ---------------------------------------------------------------------

STORE_EXAMPLE = """{"schema":1,
"devices":[
{"name":"pixel","kind":"phone","platform":"android","eid":"89049032000000000000000000000123","imei":"356938035643809","primary":true,"euicc":"pcsc:0","created":"2026-11-21T10:00:00Z"},
{"name":"watch","kind":"watch","primary":false,"created":"2026-11-21T10:30:00Z"}
],
"profiles":[
{"id":"0bebd4b3","iccid":"8944100000000000001","carrier":"Acme","plan":"voice+data","nickname":"work","activation_code":{"smdp":"rsp.example.com","matching_id":"ABC-123","oid":"1.3.6.1.4.1.31746","cc_required":true},"provider":"Acme","profile_name":"Acme Work","profile_class":"operational","created":"2026-11-21T10:00:00Z","last_transfer":"2026-11-22T08:15:42Z"},
{"id":"cf187820","carrier":"Zed","plan":"data-only","activation_code":{"smdp":"smdp.zed.example:8443","matching_id":"","cc_required":false},"created":"2026-11-21T10:30:00Z"}
],
"bindings":[
{"profile":"0bebd4b3","device":"pixel","state":"released","since":"2026-11-22T08:15:42Z","released_at":"2026-11-22T08:15:42Z"},
{"profile":"0bebd4b3","device":"watch","state":"pending","since":"2026-11-22T08:15:42Z","ready_at":"2026-11-22T08:45:42Z"}
],
"history":[
{"time":"2026-11-21T10:00:00Z","op":"add","profile":"0bebd4b3","to":"pixel","outcome":"ok"},
{"time":"2026-11-22T08:15:42Z","op":"transfer","profile":"0bebd4b3","from":"pixel","to":"watch","outcome":"pending","detail":"carrier takes up to 30 min"}
],
"notifications":[
{"device":"pixel","seq":7,"event":"install","address":"rsp.example.com","iccid":"8944100000000000001","data":"vycCAQ==","queued":"2026-11-21T10:00:00Z","attempts":2,"last_error":"HTTP 503"}
]}
"""

STORE_EMPTY = '{"schema":1,\n"devices":[],\n"profiles":[],\n"bindings":[],\n"history":[],\n"notifications":[]}\n'


def store():
    c = Corpus("fuzz_store")
    c.add("valid-example", STORE_EXAMPLE)
    c.add("valid-empty", STORE_EMPTY)
    c.add("valid-minimal", '{"schema":1}')
    c.add("valid-unicode", STORE_EMPTY.replace(
        '"devices":[]',
        '"devices":[{"name":"t.a_b-1","kind":"tablet","platform":"ios","primary":false,'
        '"created":"2026-02-28T23:59:60Z"}]').replace(
        '"history":[]',
        '"history":[{"time":"1970-01-01T00:00:01Z","op":"note","outcome":"ok",'
        '"detail":"caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\\\ \\n"}]'))
    c.add("edge-schema-2", '{"schema":2,"devices":[]}')
    c.add("edge-not-json", '{"schema":1,"devices":[')
    c.add("edge-dangling", STORE_EXAMPLE.replace('"profile":"0bebd4b3","device":"watch"',
                                                 '"profile":"deadbeef","device":"watch"'))
    c.add("edge-duplicate-id", STORE_EXAMPLE.replace('"id":"cf187820"', '"id":"0bebd4b3"'))
    c.add("edge-big-numbers", '{"schema":1,"notifications":[{"device":"pixel","seq":9007199254740993,'
          '"event":"install","address":"a.b","data":"","queued":"2026-11-21T10:00:00Z","attempts":1e300}]}')
    c.add("edge-nul", b'{"schema":1}\x00{"x":1}')
    c.add("edge-deep", "[" * 200 + "]" * 200)


# ---- fuzz_carriers ------------------------------------------------------------------

def carriers():
    c = Corpus("fuzz_carriers")
    with open(os.path.join(ROOT, "examples", "carriers.json")) as f:
        c.add("valid-example", f.read())
    c.add("valid-empty", '{"carriers":[]}')
    c.add("valid-override-att", '{"carriers":[{"name":"AT&T","cooldown_hours":0,"cloud_sync":"partial"}]}')
    c.add("valid-concurrent", '{"carriers":[{"name":"Am\u00e9rica M\u00f3vil","region":"MX",'
          '"model":"concurrent","max_devices":5,"aliases":["Telcel","claro","a","b","c","d","e"]}]}')
    c.add("edge-bad-model", '{"carriers":[{"name":"X","model":"dual"}]}')
    c.add("edge-unknown-key", '{"carriers":[{"name":"X","colour":"red"}],"extra":1}')
    c.add("edge-ranges", '{"carriers":[{"name":"X","transfer_minutes":[15,10],"reprovision_hours":[-1,1e9]}]}')
    c.add("edge-not-object", '[{"name":"X"}]')
    c.add("edge-too-many-aliases", '{"carriers":[{"name":"X","aliases":["1","2","3","4","5","6","7","8","9"]}]}')
    c.add("edge-empty-name", '{"carriers":[{"name":"&-. "}]}')


# ---- fuzz_der -----------------------------------------------------------------------

def der():
    c = Corpus("fuzz_der")
    c.add("valid-cert-ci", pem_der("test-only-ci.cert.pem"))
    c.add("valid-cert-euicc", pem_der("test-only-euicc.cert.pem"))
    for k in ("info2", "profiles", "list_notif", "pir_ok"):
        c.add("valid-" + k.replace("_", "-"), cap_bytes(k))
    c.add("valid-uint", h("020100020180020200FF02087FFFFFFFFFFFFFFF0209008000000000000000"))
    c.add("valid-hex-text", "BF2203820102a9160414")
    c.add("valid-base64-text", base64.b64encode(cap_bytes("info2")).decode())
    c.add("valid-base64-wrapped", "vzYD\r\nvyMA\r\n")
    c.add("edge-long-form-len", h("3081050403010203"))
    c.add("edge-4-byte-len", h("308400000003020100"))
    c.add("edge-indefinite", h("30800000"))
    c.add("edge-3-byte-tag", h("BF8F7F00"))
    c.add("edge-nonminimal-tag", h("1F8001005F1E00"))
    c.add("edge-truncated", h("BF228191810302"))
    c.add("edge-nested", h("30" "0C" "30" "0A" "30" "08" "30" "06" "30" "04" "30" "02" "05" "00"))
    c.add("edge-base64-noncanonical", "QR==")
    c.add("edge-base64-bad-pad", "XzcEAQIDBA=")


# ---- fuzz_es9p ----------------------------------------------------------------------

def es9p():
    c = Corpus("fuzz_es9p")
    hdr = lambda st: '"header":{"functionExecutionStatus":{"status":"%s"}}' % st
    ok = hdr("Executed-Success")
    failed = ('"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":'
              '{"subjectCode":"8.2.6","reasonCode":"3.8","message":"Refused"}}}')
    txid = "00112233AABBccdd"
    ss1 = "MAqACAARIjOqu8zd"
    sig = "XzcEAQIDBA=="
    pkid = "BBQREhMUFRYXGBkaGxwdHh8gISIjJA=="
    cert = base64.b64encode(pem_der("test-only-dpauth.cert.pem")).decode()
    meta = "vyUDWgEB"
    bpp = "vzYDvyMA"
    ia = ('{%s,"transactionId":"%s","serverSigned1":"%s","serverSignature1":"%s",'
          '"euiccCiPKIdToBeUsed":"%s","serverCertificate":"%s"}')
    ac = ('{%s,"transactionId":"%s","profileMetadata":"%s","smdpSigned2":"%s",'
          '"smdpSignature2":"%s","smdpCertificate":"%s"}')
    seeds = {
        "0-ia-valid": ia % (ok, txid, ss1, sig, pkid, cert),
        "0-ia-warning-extra": ia.replace("{%s", '{"otherCertsInChain":["MAMCAQU=",{"x":1}],%s')
        % (hdr("Executed-WithWarning"), txid, ss1, sig, pkid, "MAMCAQU="),
        "0-ia-failed": "{%s}" % failed,
        "0-ia-expired": '{"header":{"functionExecutionStatus":{"status":"Expired","statusCodeData":'
        '{"subjectCode":"8.8.5","reasonCode":"4.10"}}}}',
        "0-ia-bad-txid": ia % (ok, "123", ss1, sig, pkid, cert),
        "0-ia-wrapped-b64": ia % (ok, txid, "MAqA\\nCAAR\\r\\nIjOqu8zd\\n", sig, pkid, "MAMC\\tAQU="),
        "1-ac-valid": ac % (ok, txid, meta, ss1, sig, cert),
        "1-ac-other-case": ac % (ok, "00112233aabbCCDD", meta, ss1, sig, "MAMCAQU="),
        "1-ac-failed": '{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":'
        '{"subjectCode":"8.2.7","reasonCode":"3.8","message":"a\\u001b[31mb\\nc"}}}}',
        "2-bpp-valid": '{%s,"transactionId":"%s","boundProfilePackage":"%s"}' % (ok, txid, bpp),
        "2-bpp-null": '{%s,"transactionId":"%s","boundProfilePackage":null}' % (ok, txid),
        "3-cancel-valid": "{%s}" % ok,
        "3-cancel-empty": "",
        "4-notif-empty": "",
        "4-notif-failed": '{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":'
        '{"subjectCode":"8.1.3","reasonCode":"6.1","message":"bad cert"}}}}',
        "4-notif-text": "OK",
    }
    for k, v in seeds.items():
        c.add(k, bytes([int(k[0])]) + v.encode())


# ---- fuzz_es10 ----------------------------------------------------------------------

ADDR_HEX = "74657374736D6470706C7573312E6578616D706C652E636F6D"
ICCID_20_BCD = "98001032547698103214"
TXID_HEX = "00112233445566778899AABBCCDDEEFF"
SIG_HEX = ("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
           "202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F")
UNIT = {
    "notif_list": "BF2859A057BF2F2E800105810206400C19" + ADDR_HEX + "5A0A" + ICCID_20_BCD +
    "BF2F2380020080810207800C19" + ADDR_HEX,
    "pir_ok": "BF3781AFBF2769" "8010" + TXID_HEX + "BF2F2E800101810207800C19" + ADDR_HEX + "5A0A" +
    ICCID_20_BCD + "060388370A" "A21FA01D4F10A0000005591010FFFFFFFF8900001100"
    "04093007A0053003800100" "5F3740" + SIG_HEX,
    "pir_err": "BF378198BF2752" "8010" + TXID_HEX + "BF2F2E800102810207800C19" + ADDR_HEX + "5A0A" +
    ICCID_20_BCD + "060388370A" "A208A106800105810108" "5F3740" + SIG_HEX,
    "profiles": "BF2D81DFA081DC" "E381845A0A" + ICCID_20_BCD + "4F10A0000005591010FFFFFFFF89000010009F700101"
    "9004776F726B910441434D45920A41434D4520354720476F930101950102"
    "B637301F800206408119" + ADDR_HEX + "301480020410810E64702E6578616D706C652E6F7267"
    "B70580031300149902" "0560"
    "E3415A0A989444999999990930F14F10A0000005591010FFFFFFFF89000011009F700100"
    "90040162FF7F9101589205636166C3A9950100B705800362F2109403010203"
    "E3105A0A988810325476981032149F700100",
    "info2": "BF228191810302030182030202008303010203840D810108820400045BF883022419"
    "850207808603090200870302030088020398A9160414F54172BDF98A95D65CBEB88A38A1C11D800A85C3"
    "AA2C0414F54172BDF98A95D65CBEB88A38A1C11D800A85C30414C0BC70BA36929D43B467FF57570530E5"
    "7AB8FCD88B01029902070004030002010C0D47492D42412D55502D30343139",
    "auth_ok": "BF3863A0613012" "8010" + TXID_HEX + "5F3740" + SIG_HEX + "30030201013003020102",
    "auth_err": "BF3817A115" "8010" + TXID_HEX + "020106",
    "pd_ok": "BF21819EA0819B3056" "8010" + TXID_HEX + "5F494104" + "11" * 64 + "5F3740" + SIG_HEX,
    "pd_err": "BF2117A115" "8010" + TXID_HEX + "020105",
    "cancel_ok": "BF4161A05F301A" "8010" + TXID_HEX + "810388370A820100" "5F3740" + SIG_HEX,
    "retrieve5": "BF2B8183A08180307EBF2F2E800105810206400C19" + ADDR_HEX + "5A0A" + ICCID_20_BCD +
    "5F3740" + SIG_HEX + "30030201013003020102",
}
MIN_BPP = "BF361E" "BF2303820101" "A006870400000000" "A106880400000000" "A306860400000000"

# fz_es10_op order (enum fz_es10_op in fuzz_entry.h)
OPS = ["EID", "INFO1", "INFO2", "CHALLENGE", "ADDRESSES", "SET_DP", "AUTH", "PREPARE",
       "LOAD_BPP", "CANCEL", "LIST_NOTIF", "RETRIEVE", "REMOVE", "PROFILES", "PROFILES_ICCID",
       "ENABLE", "DISABLE", "DELETE", "NICKNAME", "RESET", "RAT", "TRANSMIT"]


def answer(data, sw=b"\x90\x00"):
    """One fake-card answer: [n][n data bytes + SW]; long data as 61xx + GET RESPONSE."""
    out = b""
    while len(data) > 250:
        rest = len(data) - 250
        out += bytes([250]) + data[:250] + bytes([0x61, rest if rest < 256 else 0])
        data = data[250:]
    return out + bytes([len(data)]) + data + sw


def card(op, answers, basic=True):
    flags = 0xFD if basic else 0xFC     # STORE DATA blocks of 253 bytes
    opening = answer(b"") if basic else answer(b"\x01") + answer(b"")
    return bytes([6, OPS.index(op), flags]) + opening + b"".join(answers)


def es10():
    c = Corpus("fuzz_es10")
    for k, v in (("info2-unit", UNIT["info2"]), ("info2-soft", CAPTURED["info2"])):
        c.add("0-" + k, b"\x00" + h(v))
    for k in ("pir_ok", "pir_err"):
        c.add("1-%s-unit" % k, b"\x01" + h(UNIT[k]))
        c.add("1-%s-soft" % k, b"\x01" + cap_bytes(k))
    c.add("2-notif-unit", b"\x02" + h(UNIT["notif_list"]))
    c.add("2-notif-soft", b"\x02" + cap_bytes("list_notif"))
    c.add("2-notif-empty", b"\x02" + h("BF2802A000"))
    c.add("2-notif-error", b"\x02" + h("BF280381017F"))
    c.add("3-profiles-unit", b"\x03" + h(UNIT["profiles"]))
    c.add("3-profiles-soft", b"\x03" + cap_bytes("profiles"))
    c.add("3-profiles-error", b"\x03" + h("BF2D03810101"))
    c.add("4-signed2", b"\x04" + h("3015" "8010" + TXID_HEX + "010100"))
    c.add("4-signed2-otpk", b"\x04" + h("305A" "8010" + TXID_HEX + "0101FF" "5F4941" "04" + "22" * 64))
    c.add("5-min-bpp", b"\x05" + h(MIN_BPP))
    c.add("5-bpp-a2", b"\x05" + h("BF3626" "BF2303820101" "A006870400000000" "A106880400000000"
                                  "A206870400000000" "A306860400000000"))
    c.add("5-bpp-data-after-a3", b"\x05" + h("BF3621" "BF2303820101" "A006870400000000"
                                             "A106880400000000" "A306860400000000" "0500"))
    ok = answer(h("BF3103800100"))
    seeds = {
        "EID": [answer(cap_bytes("eid"))],
        "INFO1": [answer(cap_bytes("info1"))],
        "INFO2": [answer(cap_bytes("info2"))],
        "CHALLENGE": [answer(cap_bytes("challenge"))],
        "ADDRESSES": [answer(cap_bytes("addresses"))],
        "SET_DP": [answer(h("BF3F03800100"))],
        "AUTH": [answer(h(UNIT["auth_ok"]))],
        "PREPARE": [answer(h(UNIT["pd_ok"]))],
        "LOAD_BPP": [answer(b"")] * 5 + [answer(cap_bytes("pir_ok"))],
        "CANCEL": [answer(h(UNIT["cancel_ok"]))],
        "LIST_NOTIF": [answer(cap_bytes("list_notif"))],
        "RETRIEVE": [answer(h(UNIT["retrieve5"]))],
        "REMOVE": [answer(h("BF3003800100"))],
        "PROFILES": [answer(cap_bytes("profiles"))],
        "PROFILES_ICCID": [answer(h(UNIT["profiles"]))],
        "ENABLE": [ok],
        "DISABLE": [answer(h("BF3203800102"))],
        "DELETE": [answer(h("BF3303800101"))],
        "NICKNAME": [answer(h("BF2903800100"))],
        "RESET": [answer(h("BF3403800101"))],
        "RAT": [answer(cap_bytes("rat"))],
        "TRANSMIT": [answer(h("BF2E00"))],
    }
    for op, answers in seeds.items():
        c.add("6-card-%s" % op.lower(), card(op, answers))
    c.add("6-card-retrieve-all", card("RETRIEVE", [answer(cap_bytes("retrieve"))]))
    c.add("6-card-auth-error", card("AUTH", [answer(h(UNIT["auth_err"]))]))
    c.add("6-card-prepare-error", card("PREPARE", [answer(h(UNIT["pd_err"]))]))
    c.add("6-card-eid-channel", card("EID", [answer(cap_bytes("eid"))], basic=False))
    c.add("6-card-eid-6c", card("EID", [answer(b"", b"\x6C\x15"), answer(cap_bytes("eid"))]))
    c.add("6-card-eid-6a88", card("EID", [answer(b"", b"\x6A\x88")]))
    c.add("6-card-termcap", bytes([6, OPS.index("INFO1"), 0xFF]) + answer(b"") + answer(b"") +
          answer(cap_bytes("info1")))


# ---- fuzz_soft_apdu -----------------------------------------------------------------

ISDR = h("A0000005591010FFFFFFFF8900000100")
ICCID_ENABLED = "8949449999999990023"
ICCID_DISABLED = "89000123456789012341"


def cla(ch, proprietary):
    if ch < 4:
        return (0x80 if proprietary else 0x00) | ch
    return (0xC0 if proprietary else 0x40) | (ch - 4)


def store_data(ch, req, mss=120, le=True):
    out = []
    blocks = [req[i:i + mss] for i in range(0, len(req), mss)] or [b""]
    for i, b in enumerate(blocks):
        last = i == len(blocks) - 1
        apdu = bytes([cla(ch, True), 0xE2, 0x91 if last else 0x11, i, len(b)]) + b
        if last and le:
            apdu += b"\x00"
        out.append(apdu)
    return out


def get_response(ch, le=0):
    return bytes([cla(ch, False), 0xC0, 0, 0, le])


def apdus(flags, seq):
    out = bytes([flags])
    for a in seq:
        if 0 < len(a) < 256:
            out += bytes([len(a)]) + a
        else:
            out += b"\x00" + len(a).to_bytes(2, "big") + a
    return out


def es10_on(ch, req, mss=120):
    return store_data(ch, req, mss) + [get_response(ch), get_response(ch)]


def profile_ref(tag, iccid, refresh=None):
    ref = tlv(0x5A, iccid_bcd(iccid))
    body = tlv(0xA0, ref) if tag in (0xBF31, 0xBF32) else ref
    if refresh is not None:
        body += tlv(0x81, bytes([refresh]))
    return tlv(tag, body)


def soft_apdu():
    c = Corpus("fuzz_soft_apdu")
    open_ch = bytes([0x00, 0x70, 0x00, 0x00, 0x01])
    select1 = bytes([0x01, 0xA4, 0x04, 0x00, 0x10]) + ISDR + b"\x00"
    info = []
    for req in ("BF3E035C015A", "BF2000", "BF2200", "BF2E00", "BF3C00", "BF4300"):
        info += es10_on(0, h(req))
    c.add("read-basic-channel", apdus(1, info))
    seq = [open_ch, select1]
    for req in ("BF2D00", "BF2D0E5C0C5A4F9F709091929395B6B799", "BF2800", "BF280481020640",
                "BF2B00", "BF2B05A003800102"):
        seq += es10_on(1, h(req), mss=8)
    seq.append(bytes([0x00, 0x70, 0x80, 0x01]))
    c.add("read-logical-channel-chained", apdus(0, seq))
    mgmt = []
    for req in (profile_ref(0xBF32, ICCID_ENABLED, 0xFF), profile_ref(0xBF31, ICCID_DISABLED, 0x00),
                tlv(0xBF29, tlv(0x5A, iccid_bcd(ICCID_ENABLED)) + tlv(0x90, b"home")),
                profile_ref(0xBF33, ICCID_ENABLED), tlv(0xBF30, tlv(0x80, b"\x01")),
                tlv(0xBF3F, tlv(0x80, b"")), tlv(0xBF2D, tlv(0xA0, tlv(0x5A, iccid_bcd(ICCID_DISABLED))))):
        mgmt += es10_on(0, req)
    c.add("manage-profiles", apdus(1, mgmt))
    c.add("memory-reset", apdus(1, es10_on(0, h("BF3404820205E0"))))
    c.add("enable-by-aid", apdus(1, es10_on(0, tlv(0xBF31, tlv(0xA0, tlv(0x4F, h(
        "A0000005591010FFFFFFFF8900001100"))) + tlv(0x81, b"\x00")))))
    dl = es10_on(0, h("BF2E00"))
    dl += es10_on(0, tlv(0xBF38, tlv(0x30, tlv(0x80, b"\x01" * 16) + tlv(0x81, b"\x02" * 16) +
                                     tlv(0x83, b"a.example") + tlv(0x84, b"\x03" * 16)) +
                         tlv(0x5F37, b"\x00" * 64) + tlv(0x04, b"\x00" * 20) + pem_der(
                             "test-only-dpauth.cert.pem") + tlv(0xA0, b"")))
    dl += es10_on(0, tlv(0xBF21, tlv(0x30, tlv(0x80, b"\x01" * 16) + tlv(0x01, b"\x00")) +
                         tlv(0x5F37, b"\x00" * 64) + pem_der("test-only-dppb.cert.pem")))
    dl += es10_on(0, tlv(0xBF41, tlv(0x80, b"\x01" * 16) + tlv(0x81, b"\x01")))
    dl += es10_on(0, h(MIN_BPP))
    dl += es10_on(0, h("A0068704000000008704"))
    c.add("download-refused", apdus(1, dl))
    edge = [bytes([0x80, 0xAA, 0x00, 0x00, 0x0A]) + h("A9088100820101830107"),   # TERMINAL CAPABILITY
            bytes([0x00, 0xA4, 0x04, 0x00, 0x05]) + ISDR[:5],                    # partial AID
            bytes([0x00, 0xA4, 0x04, 0x0C, 0x10]) + ISDR,
            bytes([0x80, 0xE2, 0x91, 0x00, 0x00, 0x00, 0x03]) + h("BF2E00"),     # extended length
            bytes([0x90, 0xE2, 0x91, 0x00, 0x03]) + h("BF2E00"),                 # chaining bit
            bytes([0x84, 0xE2, 0x91, 0x00, 0x03]) + h("BF2E00"),                 # secure messaging
            bytes([0x80, 0xE2, 0x11, 0x05, 0x03]) + h("BF2E00"),                 # block out of order
            bytes([0x00, 0xC0, 0x00, 0x00, 0x00]),                               # nothing to fetch
            bytes([0xC3, 0xE2, 0x91, 0x00, 0x03]) + h("BF2E00"),                 # channel 7, closed
            bytes([0x00, 0x70, 0x00, 0x13]),                                     # open channel 19
            bytes([0x4F, 0xA4, 0x04, 0x00, 0x10]) + ISDR,                        # select on 19
            bytes([0xCF, 0xE2, 0x91, 0x00, 0x02]) + h("BF22"),                   # truncated TLV
            bytes([0x00, 0x70, 0x80, 0x00]),
            bytes([0x00, 0x01, 0x02])]
    c.add("edge-card-layer", apdus(1, edge))
    big = tlv(0xBF2D, tlv(0x5C, bytes((0x80 + i) & 0xFF for i in range(246))))
    c.add("long-apdu", apdus(1, [bytes([0x80, 0xE2, 0x91, 0x00, len(big)]) + big + b"\x00"] +
                             [get_response(0)] * 3))


# ---- fuzz_bpp -----------------------------------------------------------------------

SMDP_ADDR = b"fuzz.smdp.example.com"


def metadata(iccid, icon=False, ppr=None, pclass=2):
    m = tlv(0x5A, iccid_bcd(iccid)) + tlv(0x91, b"Fuzz Operator") + tlv(0x92, b"Fuzz Profile")
    if icon:
        m += tlv(0x93, b"\x01") + tlv(0x94, b"\x89PNG\r\n\x1a\n")
    if pclass is not None:
        m += tlv(0x95, bytes([pclass]))
    m += tlv(0xB6, tlv(0x30, tlv(0x80, b"\x04\xF0") + tlv(0x81, SMDP_ADDR)))
    if ppr is not None:
        m += tlv(0x99, bytes([0x05, ppr]))
    m += tlv(0xB7, h("800362F210"))
    return tlv(0xBF25, m)


def upp(iccid, header=True, filler=600):
    plain = bytes((b >> 4 | b << 4) & 0xFF for b in iccid_bcd(iccid))
    fill = bytes((i * 7 + 3) & 0xFF for i in range(filler))
    out = b""
    if header:
        out += tlv(0xA0, tlv(0x80, b"\x02") + tlv(0x81, b"\x03") + tlv(0x82, b"FUZZ") + tlv(0x83, plain))
    out += tlv(0xA1, fill) + tlv(0xAA, h("A003800100"))
    return out


def part(b):
    return len(b).to_bytes(2, "big") + b


def plan(flags, segsz, a0, a1, a3, a2=None, tail=b""):
    out = bytes([flags, segsz]) + part(a0) + part(a1)
    if a2 is not None:
        out += part(a2)
    return out + part(a3) + tail


def bpp():
    c = Corpus("fuzz_bpp")
    iccid = "8949449999999990031"
    bf24 = h("BF2400")
    bf26 = tlv(0xBF26, tlv(0x80, b"\x11" * 16) + tlv(0x81, b"\x22" * 16) + tlv(0x82, b"\x33" * 16))
    c.add("valid-install", plan(0, 0, bf24, metadata(iccid), upp(iccid)))
    c.add("valid-install-a2", plan(2, 0, bf24, metadata(iccid), upp(iccid), a2=bf26))
    c.add("valid-small-segments", plan(0, 37, bf24, metadata(iccid, icon=True, ppr=0x40), upp(iccid)))
    c.add("valid-whole", plan(4, 0, bf24, metadata(iccid), upp(iccid, filler=100)))
    c.add("valid-lpa", plan(8, 0, bf24, metadata(iccid), upp(iccid, filler=100)))
    c.add("valid-test-profile", plan(0, 200, bf24, metadata(iccid, pclass=0), upp(iccid)))
    c.add("valid-other-iccid", plan(0, 0, bf24, metadata("8949449999999990023"),
                                       upp("8949449999999990023")))
    c.add("edge-no-header", plan(0, 0, bf24, metadata(iccid), upp(iccid, header=False)))
    c.add("edge-iccid-mismatch", plan(0, 0, bf24, metadata(iccid), upp("8949449999999990023")))
    c.add("edge-bad-class", plan(0, 0, bf24, metadata(iccid, pclass=5), upp(iccid)))
    c.add("edge-bf24-wrong", plan(0, 0, h("BF2500"), metadata(iccid), upp(iccid)))
    c.add("edge-empty-parts", plan(0, 0, b"", b"", b""))
    c.add("edge-data-after-a3", plan(0, 0, bf24, metadata(iccid), upp(iccid), tail=h("8604000000")))
    c.add("edge-bad-bf26", plan(2, 0, bf24, metadata(iccid), upp(iccid), a2=h("BF2603800100")))
    c.add("raw-structure", bytes([1, 0]) + h("A00A8708") + b"\x00" * 8 + h("A100A300"))
    c.add("raw-chunks", bytes([1, 5]) + h("A00A8708") + b"\x01" * 8 + h("A1088806") + b"\x02" * 6)


def main():
    for f in (actcode, store, carriers, der, es9p, es10, soft_apdu, bpp):
        f()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, x)) for x in files)
        print("%-16s %3d seeds %7d bytes" % (t, len(files), size))


if __name__ == "__main__":
    main()
