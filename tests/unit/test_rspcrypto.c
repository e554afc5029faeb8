/*
 * test_rspcrypto.c - SGP.22 crypto: hashCc (§5.7.5), ECDH + KDF and SCP03t (v3 §2.6.4)
 * vectors (pySim test_esim_bsp.py), signatures on both curves, certificate checks on
 * certificates made here and, when available, on the SGP.26 test PKI.
 *
 * The SGP.26 files are found through $ESIMCTL_SGP26, else $ESIMCTL_SRC/../shared/sgp26;
 * without them those tests are skipped and nothing else depends on them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "esimctl/buf.h"
#include "esimctl/der.h"
#include "esimctl/error.h"
#include "crypto/rspcrypto.h"

/* ---- helpers ---- */

static void unhex(const char *hex, struct buf *out)
{
	struct buf clean = BUF_INIT;

	for (const char *p = hex; *p; p++)
		if (*p != ' ')
			buf_addch(&clean, *p);
	if (hex_decode(clean.buf, out) != 0)
		fail_msg("bad hex in test: %s", hex);
	buf_release(&clean);
}

static void unhex_fixed(const char *hex, uint8_t *out, size_t len)
{
	struct buf b = BUF_INIT;

	unhex(hex, &b);
	assert_int_equal(b.len, len);
	memcpy(out, b.buf, len);
	buf_release(&b);
}

static void assert_bytes(const void *got, size_t got_len, const char *want_hex)
{
	struct buf want = BUF_INIT, g = BUF_INIT, w = BUF_INIT;

	unhex(want_hex, &want);
	if (got_len != want.len || memcmp(got, want.buf, want.len) != 0) {
		hex_encode(got, got_len, &g);
		hex_encode((const uint8_t *)want.buf, want.len, &w);
		fail_msg("got  %s\nwant %s", g.buf, w.buf);
	}
	buf_release(&want);
	buf_release(&g);
	buf_release(&w);
}

static int read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char tmp[4096];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(out, tmp, n);
	fclose(f);
	return 0;
}

/* ---- vectors from pySim tests/unittests/test_esim_bsp.py (SGP.22 v3 §2.6.4) ---- */

static const char seg0_hex[] =
	"A048800102810101821A53494D616C6C69616E63652053616D706C652050726F66696C65830A890001234567"
	"89012341A506810084008B00A610060667810F010201060667810F010204B08201F8A0058000810101810667"
	"810F010201A207A105C60301020AA305A1038B010FA40C830A98001032547698103214A527A1098204422100"
	"26800198831A61184F10A0000000871002FF33FF01890000010050045553494DA682019EA10A820442210025"
	"8002022B831B8001019000800102A406830101950108800158A40683010A95010882010A8316800101A40683"
	"010195010880015AA40683010A95010882010F830B80015BA40683010A95010882011A830A80010190008001"
	"5A970082011B8316800103A406830101950108800158A40683010A95010882010F8316800111A40683010195"
	"010880014AA40683010A95010882010F8321800103A406830101950108800158A40683010A950108840132A4"
	"068301019501088201048321800101A406830101950108800102A406830181950108800158A40683010A9501"
	"08820104831B800101900080011AA406830101950108800140A40683010A95010882010A8310800101900080"
	"015AA40683010A95010882011583158001019000800118A40683010A95010880014297008201108310800101"
	"A40683010195010880015A97008201158316800113A406830101950108800148A40683010A95010882010F83"
	"0B80015EA40683010A95010882011A83258001019000800102A010A406830101950108A40683010295010880"
	"0158A40683010A950108A33FA0058000810102A13630118001018108303030303030303082020099300D8001"
	"02810831323334353637383012800200818108313233343536373882020088A241A0058000810103A138A036"
	"3010800101810831323334FFFFFFFF8201013010800102810830303030FFFFFFFF820102301080010A810835"
	"363738FFFFFFFF830101A182029EA0058000810104A18202933082028F62228202782183027FF18410A00000"
	"00871002FF33FF0189000001008B010AC60301810A62118202412183026F078B010280010988013881090829"
	"43019134876765621482044221002583026F068B010A8801B8C7022F06621A8202412183026F088B01058001"
	"21880140A507C00180C10207FF621A8202412183026F098B0105800121880148A507C00180C10207FF621682"
	"02412183026F318B0102800101880190A503C1010A62118202412183026F388B010280010E880120810D0A2E"
	"178CE73204000000000000621982044221001A83026F3B8B0108800202088800A504C10200FF621982044221"
	"00B083026F3C8B0105800206E08800A504C10200FF621282044221002683026F428B0105800126";

static const char out0_hex[] =
	"868203F80FD36B066B43E53906B33263C4141D18036FCAC7BDE47FAED79E76514D39F1F405D9785FF04BADF3"
	"79A96BCF4685EB861239DA34EEB213D0CD1E0D85E96E36097A52F600907E08B6F01232EB3792A00CC6B3288C"
	"C832C7F30357EDFE0818D1F39AD8D55B5BD5D9C65917D0D16EE7E1421A44453714D66209BF441425BF6D153A"
	"85BA7E7406D58A4C46FB930BB14EEFD6A853434619805429CBBB003BD5A56E7BCEAF4666EB352AD46F47EA57"
	"2C6AD311683803DB3BEC4D783583858F2ECFBAEC3ED780FB3E3A645B1BF5CFD1047E5862C4A8877382DABD6A"
	"EF6FA72EC6378CE7B21502D3267514B29BD589703EE7BD5B1E6D868B6B7C55006BC32406A924F44BFDB6C801"
	"D490450A54633BBD66BB0ECE8B3A9BE09433C537F3E3B2B8E45833365A94479B1895E9BA13387FCA116565C2"
	"67B6BC1274C82510B21AC9FA77574412351468FD1EAC8928C9494E5EB8A909D9372476C62E8A2B556B557A79"
	"CDB47503BA5D9FD86D1962C23B3289F37DF9A05668957DF34C37806359AF1D8DFECEDF9BBF4888BE9753F2B4"
	"49CE4E5CDE510572F9BE4FB506F329A848C4583AC9AC710E53D512AD504F2E3769C2911C34F84AD0622C5428"
	"446D1E9C59BB6B2029F231B05EF45D3EC60FCEFF121BA684A023037B753F855E1067B8AD02783C04EB81BA47"
	"FCEC0947BBC9661D90C6F00C0F4E6F9C22E0B25905379F8B265B436A4A74253A64C5734F956D134CF5B6C067"
	"1125B20B735F405FEE1FC1941ED141734FA6856E898DC655FB91B045B3797D14B97A68ED3480EC137565D6C4"
	"D007F95EE705D452D0344CE9E9BBD0712F399EF8604F3F472B403EA64F00C969FD30A012CB8BE049C5455699"
	"4117FC5F6043930107774910BE5F47C780427DE063A56D45400A814C86DFCC2465262BAF273A6CA89E77BB8C"
	"73EFE2D22D975516B80C648404B10D3F329776A21251BEDF445ADE24B656E8635F0D7FE39772D942D9432766"
	"EFB5152C6E990123C52744F1C402962A381FF2AADDAA1BD522A9B65A229F9ADCD4099475B3F9BA45161EE352"
	"06365181E1D69D263D8D27444A7C3A2D7DDBB398AC5AFFEA28CB0373057DAD7741E52ADB95822FEE5157CE3C"
	"0AD978C5231A219CA0726D50EEB0C69D579094A54820194AEEF13A365D85C52257F51CB65C567E0CDF1CE38B"
	"80EAA4D131AB7086E303C5728CF41A25DF954D60AC12400D2A2990E67DBEFF866736937BEB8FCE526BE1DD5D"
	"C5D77D00B8783B34691A3E9BDA7E697EEC4CFA70B25914795AF23EC6D258530F71402B9230947DC99F9140B1"
	"6A54BA1291F54EF736DE6711C1AE074B627DFC2FC5D5250F812B7ECD1D0F5020A3ACF20AD5759CD9E761CE21"
	"882977F7DB66AABA2D8F5190F6F23996AF14B670CCAC066C93AF06A41F19D9EE712CE13FBE73B99E55401B20"
	"8B991C8CED12D34C";

static const char seg1_hex[] =
	"880062158202412183026F438B01058001028800A503C0018062128202412183026F468B036F060A80011188"
	"00810C0253494D616C6C69616E636562118202412183026F568B0108800101880128810100621B8202412183"
	"026F5B8B0105800106880178A508C00180C203F0000062168202412183026F5C8B0102800103880180A503C0"
	"018062168202412183026F738B010580010E880160A503C00180020107810700F1100000FF01621182024121"
	"83026F788B01028001028801308102004062118202412183026F7B8B010580010C8801686216820241218302"
	"6F7E8B010580010B880158A503C0018002010781040000FF0162168202412183026FAD8B010A800104880118"
	"A503C10100020103810102621382044221000483026FB78B010A800104880108810419F1FF01621582024121"
	"83026FC48B01058001808800A503C0018062168202412183026FE38B01058001128801F0A503C0018002010F"
	"810300000162168202412183026FE48B01058001508801C0A503C00180A225A0058000810105A11CA01A3018"
	"80020081810831323334FFFFFFFF82020081830101840122A43AA0058000810106A131A12F80010181010182"
	"10000102030405060708090A0B0C0D0E0F83100102030405060708090A0B0C0D0E0F008603010203A681BBA0"
	"058000810107A1444F07A00000015153504F08A0000001515350414F08A000000151000000820382DC008301"
	"0FC90A810280008201F08701F0EA11800F0100000100000002011203B2010000A26C30229501388201018301"
	"01301730158001808610112233445566778899AABBCCDDEEFF10302295013482010283010130173015800180"
	"8610112233445566778899AABBCCDDEEFF1030229501C8820103830101301730158001808610112233445566"
	"778899AABBCCDDEEFF10A681C0A0058000810108A1494F07A00000015153504F08A0000001515350414F10A0"
	"0000055910100102736456616C7565820380800083010FC907810280008201F0EA11800F0100000100000002"
	"0112036C756500A26C3022950138820101830101301730158001808610881122334455667788112233445566"
	"7730229501348201028301013017301580018086108811223344556677881122334455667730229501C88201"
	"0383010130173015800180861088112233445566778811223344556677A8820263A0058000810109A1820218"
	"4F08A000000559101001C482020A01002EDECAFFED020204000108A0000005591010011B636F6D2F67736D61"
	"2F65756963632F746573742F6170706C657431020021002E0021000F003B002A00210066000A000E0000008A"
	"040F00000000000004010004003B04030107A0000000620101000110A0000000090005FFFFFFFF";

static const char out1_hex[] =
	"868203F8648E034AE0DC4CE022EE1E60B130DDA95E13B21B0DA3DE7677677F47900C1BEB3637B8AA35F3A9E0"
	"96C0285FFE3E931983DF900B36B7E6BC4B9AF14B0EE3D49637EB2D4CFF314B5D00789A751DFD9554651FB2B7"
	"C66AD4E22A794D5B88CB71CCF4C05D53ABEBA8BD3B0C8209346F014CBDEE62BE4878E3FEA09A96007135A6C5"
	"84AA843C48972842BDBECE1C439723021B3F0D535D557995BEEDBD2B56F416148DF90CB1A4D2FA26288801D5"
	"6A2CBB0A404F2FD9A73042D7A3486BFB7256C1D274AAE5B7EC24E8EBA28B7DCE69EDC44189B24186B98397B4"
	"A74831F8AB46E8E46A2ED3077D4924F5D3F6E4C1DE5DDFFD194E7F0F97D94EA2801D1364835C9871BAE6539E"
	"3E1355C5970711D845864F04D9C1DCCAC0D4068DCF4664E9976509FE43FEC6BEB3DDC96839ABA6D89BB1593C"
	"5B6EBBC32FFF39C4A5BB3E5C9DF6A1ABC05818DBD5149733381E69521066E1BBD648EB19B00602767E90BEAE"
	"B3B3B92679940A603C0500E37892D7B4FA44355C3DEEC8AF207F89D04F83CD88603E9CB9C96F74643816E87A"
	"F85A8A9D0283CDF535D1FBAEFB930FD4A0DBA2AE30EE9D2D9E2A31827A012A6380AF42AC87F3BFD7079DDD8F"
	"A27D2299FB4D5879E9A17A5062E13CAB4F7BED22ED54932FA53D630BCA8592F957A7ED148E9D4F28075C2565"
	"A550694B876091A1181BA512E70FDE4F28AE6968A18D721396C0FEE9CD7744DEE90BF85F5ADDDB3417B3EDE9"
	"EA3CFD5EAE2D820B17600CE3B95F6DF38A5BC39302C5155C3F241DDFC7CEE527AF7F6A67868A577C39E76E26"
	"C4ED5D6ACA031A97C280DA27AE8DE20E57A1DBAB40A31E96E054F9A6F50578FD00156E37B70EEAD71AF32580"
	"75C1BA84282AEA462553504A868443B301ED99DCD5F414B720EF67CF5C4D16F1F7B9DF741C2343246DCB717F"
	"3FA62B633539BDCC0082D161499CAAD8D097BE78133DAFD19777559F77C6D7A8F61323FF660613AA47CEE26A"
	"4F7515204EEE3C7EAA00EB55529B0DDAE3436EC679FC591FE2063DE94DB00B5D0F041BEEB80A91F108F7CF4B"
	"3B1344B0FBB437630EE437B4C7744C54009A59A9099681F3A3FA386F294C0EB4562581202A369772833EFDC6"
	"E840695352DE3864671E7FB0FD081EC162A2A62EA5B8A9DA837F3920B4196FBE2EC912ADE440537AE4A07DFC"
	"115C9C030539F278E0801BDA4F15298BA50E329B18992AF8B899686EC97175509D4A217D2EBA8FEEF5F5732F"
	"C7BE86370F7723896B784BD45517AF86A7521E952B6BE924D91A5190E3C2C65CE8924DF43DDB25C529DDE324"
	"A722A156DF459F4B38BB062975FAD9FADD27F6425E422B1ABD9A7259F0BD712A486E1AA25CA848CF65C5FB88"
	"8BF61AE136B68CF55CB643C198537CD83DF0DBB842C5F4982CA3088CC2D8E867C3049A84B515EC39B0B774A8"
	"482099327006ACFF";

#define S_ENC "472F5BFADD97F21D34F3CE9B51B92751"
#define S_MAC "9EC07F5B36A13E12A991D66E294E6242"
#define MCV0 "406D507B448A699E7A36A38494DEBBDE"

static void bsp_vector_state(struct bsp *b)
{
	uint8_t enc[16], mac[16], mcv[16];

	unhex_fixed(S_ENC, enc, 16);
	unhex_fixed(S_MAC, mac, 16);
	unhex_fixed(MCV0, mcv, 16);
	bsp_init_keys(b, enc, mac, mcv);
}

/* ---- hashing and encodings ---- */

static void test_hash_cc(void **state)
{
	uint8_t txid[16], out[32];

	(void)state;
	unhex_fixed("00112233445566778899AABBCCDDEEFF", txid, 16);
	rsp_hash_cc("1234", txid, sizeof(txid), out);
	assert_bytes(out, 32, "06B387355633C795AA7EC0BBA73682C268C2E9326B649540D7FDB3F866A8761C");
}

static void test_sha256(void **state)
{
	uint8_t out[32];

	(void)state;
	rsp_sha256("abc", 3, out);
	assert_bytes(out, 32, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
	rsp_sha256("", 0, out);
	assert_bytes(out, 32, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
}

static void test_random(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };
	struct esim_err err = { 0 };

	(void)state;
	assert_int_equal(rsp_random(a, sizeof(a), &err), 0);
	assert_int_equal(rsp_random(b, sizeof(b), &err), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(rsp_random(a, 0, &err), 0);
}

static const struct {
	const char *text;
	const char *bin_hex;    /* NULL: must fail */
} b64_cases[] = {
	{ "", "" },
	{ "Zg==", "66" },
	{ "Zm8=", "666F" },
	{ "Zm9v", "666F6F" },
	{ "Zm9vYg==", "666F6F62" },
	{ "vzaCMnu/", "BF3682327BBF" },
	{ "+/+/", "FBFFBF" },
	{ " Zm9v\r\nYmFy\n", "666F6F626172" },
	{ "Zm\t9v", "666F6F" },
	{ "Zm9=\n", "666F" },   /* non-zero spare bits are not checked */
	{ "Zg=", NULL },
	{ "Zg", NULL },
	{ "Z", NULL },
	{ "Zm9vY", NULL },
	{ "Zg==Zg==", NULL },
	{ "Z===", NULL },
	{ "Zm=v", NULL },
	{ "====", NULL },
	{ "Zm9v!", NULL },
	{ "Zm9-", NULL },
	{ "Zm9_", NULL },
	{ "Zm9v=", NULL },
};

static void test_base64_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
		struct buf out = BUF_INIT;
		int r = base64_decode(b64_cases[i].text, strlen(b64_cases[i].text), &out);

		if (!b64_cases[i].bin_hex) {
			if (r != -1)
				fail_msg("case %zu '%s' decoded", i, b64_cases[i].text);
			assert_int_equal(out.len, 0);
		} else {
			if (r != 0)
				fail_msg("case %zu '%s' failed", i, b64_cases[i].text);
			assert_bytes(out.buf, out.len, b64_cases[i].bin_hex);
		}
		buf_release(&out);
	}
}

static void test_base64_roundtrip(void **state)
{
	uint8_t data[300];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(data); len += (len < 10 ? 1 : 29)) {
		struct buf enc = BUF_INIT, dec = BUF_INIT;

		base64_encode(data, len, &enc);
		assert_int_equal(enc.len, 4 * ((len + 2) / 3));
		assert_int_equal(strlen(enc.buf), enc.len);
		assert_null(strchr(enc.buf, '\n'));
		assert_int_equal(base64_decode(enc.buf, enc.len, &dec), 0);
		assert_int_equal(dec.len, len);
		if (len)
			assert_memory_equal(dec.buf, data, len);
		buf_release(&enc);
		buf_release(&dec);
	}
	/* Appends to existing contents. */
	{
		struct buf b = BUF_INIT;

		buf_addstr(&b, "x=");
		base64_encode((const uint8_t *)"foo", 3, &b);
		assert_string_equal(b.buf, "x=Zm9v");
		buf_release(&b);
	}
}

/* ---- ECDH and KDF (SGP.22 v3 §2.6.4.2) ---- */

/* SEC1 ECPrivateKey DER on P-256 with no public key: 30 { 02 01 01, 04 20 d, A0 { 06 oid } }. */
static void sec1_p256(const char *d_hex, struct buf *out)
{
	static const uint8_t one = 1;
	static const uint8_t oid[] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 };
	struct buf d = BUF_INIT;
	size_t top, a0;

	unhex(d_hex, &d);
	top = der_begin(out, 0x30);
	der_put_tlv(out, 0x02, &one, 1);
	der_put_tlv(out, 0x04, d.buf, d.len);
	a0 = der_begin(out, 0xA0);
	der_put_tlv(out, 0x06, oid, sizeof(oid));
	der_end(out, a0);
	der_end(out, top);
	buf_wipe_release(&d);
}

static void test_ecdh_vector(void **state)
{
	struct buf der = BUF_INIT;
	struct rsp_key *k = NULL;
	struct esim_err err = { 0 };
	uint8_t peer[RSP_PUB_LEN], shs[32];

	(void)state;
	sec1_p256("FB68A38CCEDB69E15CBE03C256228998AC398587E5DC7117F948145C839D61A4", &der);
	if (rsp_key_load((const uint8_t *)der.buf, der.len, &k, &err) != 0)
		fail_msg("rsp_key_load: %s", err.msg);
	assert_int_equal(rsp_key_curve(k), RSP_CURVE_P256);
	unhex_fixed("0400F7B8D71403F21D84B00CD9E561178D737D3F4D065E62FEE279271298DD4F07"
		    "4794AB791B9939D4461296EFE388AA26731064263AF988B7D2C4D77DA44801B5",
		    peer, sizeof(peer));
	assert_int_equal(rsp_ecka_derive(k, peer, shs, &err), 0);
	assert_bytes(shs, 32, "C9A993DD4879A8F7161F2085410EDD4F9652F1DF37BE097BA96BA2CA6BE528FE");

	/* Not on the curve: last byte of Y changed. */
	peer[64] ^= 0x01;
	assert_int_equal(rsp_ecka_derive(k, peer, shs, &err), -1);
	peer[64] ^= 0x01;
	/* Compressed-point prefix is refused. */
	peer[0] = 0x02;
	assert_int_equal(rsp_ecka_derive(k, peer, shs, &err), -1);
	rsp_key_free(k);
	buf_release(&der);
}

/* SharedInfo = keyType || keyLen || len(hostId) || hostId || len(EID) || EID. */
static void shared_info(const char *eid_hex, struct buf *out)
{
	static const uint8_t host[8] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 };
	struct buf eid = BUF_INIT;

	unhex(eid_hex, &eid);
	buf_addch(out, 0x88);
	buf_addch(out, 0x10);
	buf_addch(out, (int)sizeof(host));
	buf_add(out, host, sizeof(host));
	buf_addch(out, (int)eid.len);
	buf_add(out, eid.buf, eid.len);
	buf_release(&eid);
}

static const struct {
	const char *shs, *eid, *info, *enc, *mac, *mcv;
} kdf_cases[] = {
	{ "C9A993DD4879A8F7161F2085410EDD4F9652F1DF37BE097BA96BA2CA6BE528FE",
	  "89049032123451234512345678901235",
	  "88 10 08 8080808080808080 10 89049032123451234512345678901235",
	  S_ENC, S_MAC, MCV0 },
	{ "8902DCA391BBB22570FE60C176076246F568B1941265DFF1D729E63039658089",
	  "89049032123451234512345678901335",
	  "88 10 08 8080808080808080 10 89049032123451234512345678901335",
	  "D782D575B22A38334556A3D9A1E2AE6B", "A35ADDC192AE8F934E2932116C7E89E7",
	  "734BC93DDB10C71C5AD13D420DC08B5B" },
};

static void test_kdf_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kdf_cases) / sizeof(kdf_cases[0]); i++) {
		struct buf info = BUF_INIT;
		uint8_t shs[32], out[48];
		struct bsp b;

		unhex_fixed(kdf_cases[i].shs, shs, 32);
		shared_info(kdf_cases[i].eid, &info);
		assert_bytes(info.buf, info.len, kdf_cases[i].info);
		rsp_kdf(shs, (const uint8_t *)info.buf, info.len, out);
		assert_bytes(out, 16, kdf_cases[i].mcv);
		assert_bytes(out + 16, 16, kdf_cases[i].enc);
		assert_bytes(out + 32, 16, kdf_cases[i].mac);
		bsp_init(&b, out);
		assert_bytes(b.mcv, 16, kdf_cases[i].mcv);
		assert_bytes(b.enc, 16, kdf_cases[i].enc);
		assert_bytes(b.mac, 16, kdf_cases[i].mac);
		assert_int_equal(b.ctr, 1);
		bsp_wipe(&b);
		assert_int_equal(b.ctr, 0);
		buf_release(&info);
	}
}

static void test_ecdh_generated(void **state)
{
	static const enum rsp_curve curves[] = { RSP_CURVE_P256, RSP_CURVE_BRP256 };
	struct esim_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct rsp_key *a = NULL, *b = NULL;
		uint8_t pa[RSP_PUB_LEN], pb[RSP_PUB_LEN], pa2[RSP_PUB_LEN], s1[32], s2[32];

		assert_int_equal(rsp_ecka_generate(curves[i], &a, pa, &err), 0);
		assert_int_equal(rsp_ecka_generate(curves[i], &b, pb, &err), 0);
		assert_int_equal(rsp_key_curve(a), curves[i]);
		assert_int_equal(pa[0], 0x04);
		assert_int_equal(rsp_key_public(a, pa2, &err), 0);
		assert_memory_equal(pa, pa2, RSP_PUB_LEN);
		assert_int_equal(rsp_ecka_derive(a, pb, s1, &err), 0);
		assert_int_equal(rsp_ecka_derive(b, pa, s2, &err), 0);
		assert_memory_equal(s1, s2, 32);
		rsp_key_free(a);
		rsp_key_free(b);
	}
	/* A point from the other curve is refused. */
	{
		struct rsp_key *p = NULL, *q = NULL;
		uint8_t pp[RSP_PUB_LEN], pq[RSP_PUB_LEN], s[32];

		assert_int_equal(rsp_ecka_generate(RSP_CURVE_P256, &p, pp, &err), 0);
		assert_int_equal(rsp_ecka_generate(RSP_CURVE_BRP256, &q, pq, &err), 0);
		assert_int_equal(rsp_ecka_derive(p, pq, s, &err), -1);
		rsp_key_free(p);
		rsp_key_free(q);
	}
	{
		struct rsp_key *k = (struct rsp_key *)1;
		uint8_t pub[RSP_PUB_LEN];

		assert_int_equal(rsp_ecka_generate(RSP_CURVE_UNKNOWN, &k, pub, &err), -1);
		assert_null(k);
	}
}

/* ---- SCP03t (SGP.22 v3 §2.6.4) ---- */

static const struct {
	uint8_t tag;
	const char *plain;
	const char *seg;
} bsp_cases[] = {
	{ 0x87, "BF2400", "8718F6FE031E4B9CFE87C8E1E62F3FDE85C49412D7722A6A2D89" },
	{ 0x88,
	  "BF252D5A0A98001032547698103214910947534D415F54455354921147534D415F544553545F50524F46494C45950100",
	  "8838BF252D5A0A98001032547698103214910947534D415F54455354921147534D415F544553545F50524F46494C45"
	  "9501008A62CC9ADBB5CCBC" },
	{ 0x87,
	  "BF2636 8010 000102030405060708090A0B0C0D0E0F 8110 010102030405060708090A0B0C0D0E0F"
	  " 8210 020102030405060708090A0B0C0D0E0F",
	  "8748A14C800A001992351CD46AD2945654674369701D82B7B46567652BC8FBED234939FC57FBA748015525FD6C65"
	  "1E9D3D1330652D42A0CFAD950E912122AF4EC5362D3C0BC535729C40" },
};

static void test_bsp_vectors(void **state)
{
	struct bsp tx, rx;
	struct esim_err err = { 0 };

	(void)state;
	bsp_vector_state(&tx);
	bsp_vector_state(&rx);
	for (size_t i = 0; i < sizeof(bsp_cases) / sizeof(bsp_cases[0]); i++) {
		struct buf plain = BUF_INIT, seg = BUF_INIT, back = BUF_INIT;
		int reason = -1;

		unhex(bsp_cases[i].plain, &plain);
		assert_int_equal(tx.ctr, (uint32_t)(i + 1));
		if (bsp_protect(&tx, bsp_cases[i].tag, (const uint8_t *)plain.buf, plain.len, &seg,
				&err) != 0)
			fail_msg("bsp_protect: %s", err.msg);
		assert_bytes(seg.buf, seg.len, bsp_cases[i].seg);
		assert_int_equal(tx.ctr, (uint32_t)(i + 2));
		/* MCV is the full CMAC; its first 8 bytes are on the wire. */
		assert_memory_equal(tx.mcv, seg.buf + seg.len - 8, 8);

		assert_int_equal(bsp_unprotect(&rx, (const uint8_t *)seg.buf, seg.len, &back, &reason), 0);
		assert_int_equal(back.len, plain.len);
		assert_memory_equal(back.buf, plain.buf, plain.len);
		assert_memory_equal(rx.mcv, tx.mcv, 16);
		assert_int_equal(rx.ctr, tx.ctr);
		buf_release(&plain);
		buf_release(&seg);
		buf_release(&back);
	}
	bsp_wipe(&tx);
	bsp_wipe(&rx);
}

/* ICV(ctr=1) = AES-ECB(S-ENC, 0..01): recover it from the first 87 block, C1 = E(P1 ^ ICV). */
static void test_bsp_icv(void **state)
{
	static const uint8_t p1[16] = { 0xBF, 0x24, 0x00, 0x80 };
	uint8_t key[16], c1[16], x[16], icv[16];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;

	(void)state;
	unhex_fixed(S_ENC, key, 16);
	unhex_fixed("F6FE031E4B9CFE87C8E1E62F3FDE85C4", c1, 16);
	assert_non_null(ctx);
	assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_DecryptUpdate(ctx, x, &n, c1, 16), 1);
	assert_int_equal(n, 16);
	EVP_CIPHER_CTX_free(ctx);
	for (int i = 0; i < 16; i++)
		icv[i] = x[i] ^ p1[i];
	assert_bytes(icv, 16, "CBAEAF843222738E67D2D10C793109B1");
}

/* After ReplaceSessionKeys: PPK-ENC 01 01 02..0F, PPK-MAC 02 01 02..0F, MCV 00..0F, ctr 1. */
static void test_bsp_ppk_86(void **state)
{
	static const char *const plains[] = { seg0_hex, seg1_hex };
	static const char *const segs[] = { out0_hex, out1_hex };
	uint8_t enc[16], mac[16], mcv[16];
	struct bsp tx, rx;
	struct esim_err err = { 0 };

	(void)state;
	for (int i = 0; i < 16; i++)
		enc[i] = mac[i] = mcv[i] = (uint8_t)i;
	enc[0] = 1;
	mac[0] = 2;
	/* Start from a used state: bsp_init_keys must reset the counter. */
	bsp_vector_state(&tx);
	tx.ctr = 9;
	bsp_init_keys(&tx, enc, mac, mcv);
	bsp_init_keys(&rx, enc, mac, mcv);
	assert_int_equal(tx.ctr, 1);
	for (size_t i = 0; i < 2; i++) {
		struct buf plain = BUF_INIT, seg = BUF_INIT, back = BUF_INIT;
		int reason = -1;

		unhex(plains[i], &plain);
		assert_int_equal(plain.len, 1007);
		assert_int_equal(bsp_protect(&tx, 0x86, (const uint8_t *)plain.buf, plain.len, &seg, &err), 0);
		assert_int_equal(seg.len, 1020);
		assert_bytes(seg.buf, seg.len, segs[i]);
		assert_int_equal(bsp_unprotect(&rx, (const uint8_t *)seg.buf, seg.len, &back, &reason), 0);
		assert_int_equal(back.len, plain.len);
		assert_memory_equal(back.buf, plain.buf, plain.len);
		buf_release(&plain);
		buf_release(&seg);
		buf_release(&back);
	}
}

/*
 * Build an 87/86 segment from an already "padded" block string the way the SM-DP+ would,
 * but without adding 80 padding: lets the tests send well-MACed bad padding.
 */
static void raw_segment(struct bsp *b, uint8_t tag, const uint8_t *p, size_t len, struct buf *out)
{
	uint8_t ctrblk[16] = { 0 }, icv[16], full[16];
	uint8_t *c = calloc(1, len ? len : 1);   /* CBC fills whole blocks only: no stray bytes */
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
	EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *mc = EVP_MAC_CTX_new(m);
	OSSL_PARAM params[2];
	struct buf hdr = BUF_INIT;
	int n = 0;
	size_t ol = 0;

	assert_non_null(c);
	ctrblk[15] = (uint8_t)b->ctr;
	ctrblk[14] = (uint8_t)(b->ctr >> 8);
	assert_int_equal(EVP_EncryptInit_ex(cx, EVP_aes_128_ecb(), NULL, b->enc, NULL), 1);
	EVP_CIPHER_CTX_set_padding(cx, 0);
	assert_int_equal(EVP_EncryptUpdate(cx, icv, &n, ctrblk, 16), 1);
	if (tag != 0x88) {
		assert_int_equal(EVP_EncryptInit_ex(cx, EVP_aes_128_cbc(), NULL, b->enc, icv), 1);
		EVP_CIPHER_CTX_set_padding(cx, 0);
		assert_int_equal(EVP_EncryptUpdate(cx, c, &n, p, (int)len), 1);
	} else {
		memcpy(c, p, len);
	}
	buf_addch(&hdr, tag);
	der_put_len(&hdr, len + 8);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0);
	params[1] = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_MAC_init(mc, b->mac, 16, params), 1);
	EVP_MAC_update(mc, b->mcv, 16);
	EVP_MAC_update(mc, (const uint8_t *)hdr.buf, hdr.len);
	EVP_MAC_update(mc, c, len);
	assert_int_equal(EVP_MAC_final(mc, full, &ol, 16), 1);
	buf_add(out, hdr.buf, hdr.len);
	buf_add(out, c, len);
	buf_add(out, full, 8);
	buf_release(&hdr);
	EVP_MAC_CTX_free(mc);
	EVP_MAC_free(m);
	EVP_CIPHER_CTX_free(cx);
	free(c);
}

static void test_bsp_raw_matches(void **state)
{
	/* The independent builder agrees with bsp_protect on correctly padded input. */
	static const uint8_t padded[16] = { 0xBF, 0x24, 0x00, 0x80 };
	struct bsp a, b;
	struct buf s1 = BUF_INIT, s2 = BUF_INIT;
	struct esim_err err = { 0 };

	(void)state;
	bsp_vector_state(&a);
	bsp_vector_state(&b);
	raw_segment(&a, 0x87, padded, sizeof(padded), &s1);
	assert_int_equal(bsp_protect(&b, 0x87, padded, 3, &s2, &err), 0);
	assert_int_equal(s1.len, s2.len);
	assert_memory_equal(s1.buf, s2.buf, s1.len);
	buf_release(&s1);
	buf_release(&s2);
}

static const struct {
	const char *name;
	uint8_t tag;
	const char *padded;     /* raw block string encrypted as is */
	int reason;
} bad_pad_cases[] = {
	{ "no 80, all zero", 0x87, "BF240000000000000000000000000000", 7 },
	{ "last byte not 80/00", 0x87, "BF2400800000000000000000000000AA", 7 },
	{ "empty ciphertext", 0x87, "", 7 },
	{ "not a block multiple", 0x86, "BF240080", 7 },
	{ "80 then 16 zeros", 0x87, "BF24008000000000000000000000000000000000000000000000000000000000", 7 },
	{ "all zero two blocks", 0x86, "0000000000000000000000000000000000000000000000000000000000000000", 7 },
};

static void test_bsp_bad_padding(void **state)
{
	struct esim_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad_pad_cases) / sizeof(bad_pad_cases[0]); i++) {
		struct bsp tx, rx;
		struct buf p = BUF_INIT, seg = BUF_INIT, out = BUF_INIT, good = BUF_INIT;
		int reason = 0;

		bsp_vector_state(&tx);
		bsp_vector_state(&rx);
		unhex(bad_pad_cases[i].padded, &p);
		raw_segment(&tx, bad_pad_cases[i].tag, (const uint8_t *)p.buf, p.len, &seg);
		if (bsp_unprotect(&rx, (const uint8_t *)seg.buf, seg.len, &out, &reason) != -1)
			fail_msg("%s: accepted", bad_pad_cases[i].name);
		assert_int_equal(reason, bad_pad_cases[i].reason);
		assert_int_equal(out.len, 0);
		/* State unchanged by the failure: the genuine segment still verifies. */
		assert_int_equal(rx.ctr, 1);
		assert_int_equal(bsp_protect(&tx, 0x87, (const uint8_t *)"\xBF\x24\x00", 3, &good, &err), 0);
		assert_int_equal(bsp_unprotect(&rx, (const uint8_t *)good.buf, good.len, &out, &reason), 0);
		assert_int_equal(out.len, 3);
		assert_int_equal(rx.ctr, 2);
		buf_release(&p);
		buf_release(&seg);
		buf_release(&out);
		buf_release(&good);
	}
}

static void test_bsp_tamper(void **state)
{
	struct bsp tx;
	struct buf plain = BUF_INIT, seg = BUF_INIT;
	struct esim_err err = { 0 };

	(void)state;
	bsp_vector_state(&tx);
	unhex(bsp_cases[2].plain, &plain);
	assert_int_equal(bsp_protect(&tx, 0x87, (const uint8_t *)plain.buf, plain.len, &seg, &err), 0);
	/* Flip each bit position class: header length, ciphertext bytes, MAC bytes. */
	for (size_t pos = 1; pos < seg.len; pos++) {
		struct bsp rx;
		struct buf out = BUF_INIT;
		uint8_t *copy = malloc(seg.len);
		int reason = 0;

		assert_non_null(copy);
		memcpy(copy, seg.buf, seg.len);
		copy[pos] ^= (uint8_t)(1u << (pos % 8));
		bsp_vector_state(&rx);
		assert_int_equal(bsp_unprotect(&rx, copy, seg.len, &out, &reason), -1);
		/* The length byte (pos 1) breaks the TLV itself: structure error. */
		assert_int_equal(reason, pos == 1 ? 7 : 8);
		assert_int_equal(out.len, 0);
		assert_int_equal(rx.ctr, 1);
		free(copy);
		buf_release(&out);
	}
	/* Out of order (another MCV in the chain): security error. */
	{
		struct bsp rx;
		struct buf out = BUF_INIT;
		int reason = 0;

		bsp_vector_state(&rx);
		rx.mcv[15] ^= 0x01;
		assert_int_equal(bsp_unprotect(&rx, (const uint8_t *)seg.buf, seg.len, &out, &reason), -1);
		assert_int_equal(reason, 8);
		buf_release(&out);
	}
	buf_release(&plain);
	buf_release(&seg);
}

static const struct {
	const char *name;
	const char *seg;
} bad_struct_cases[] = {
	{ "empty", "" },
	{ "wrong tag", "8518F6FE031E4B9CFE87C8E1E62F3FDE85C49412D7722A6A2D89" },
	{ "two-byte tag", "9F7018F6FE031E4B9CFE87C8E1E62F3FDE85C49412D7722A6A2D89" },
	{ "truncated", "8718F6FE031E4B9CFE87C8E1E62F3FDE85C49412D7722A6A2D" },
	{ "trailing byte", "8718F6FE031E4B9CFE87C8E1E62F3FDE85C49412D7722A6A2D8900" },
	{ "shorter than a MAC", "8707 01020304050607" },
	{ "indefinite length", "8780 F6FE031E4B9CFE87C8E1E62F3FDE85C49412D7722A6A2D89 0000" },
};

static void test_bsp_structure(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_struct_cases) / sizeof(bad_struct_cases[0]); i++) {
		struct bsp rx;
		struct buf seg = BUF_INIT, out = BUF_INIT;
		int reason = 0;

		bsp_vector_state(&rx);
		unhex(bad_struct_cases[i].seg, &seg);
		if (bsp_unprotect(&rx, (const uint8_t *)seg.buf, seg.len, &out, &reason) != -1)
			fail_msg("%s: accepted", bad_struct_cases[i].name);
		if (reason != 7)
			fail_msg("%s: reason %d", bad_struct_cases[i].name, reason);
		buf_release(&seg);
		buf_release(&out);
	}
	/* NULL reason pointer is allowed. */
	{
		struct bsp rx;

		bsp_vector_state(&rx);
		assert_int_equal(bsp_unprotect(&rx, (const uint8_t *)"\x87\x00", 2, NULL, NULL), -1);
	}
}

static void test_bsp_limits(void **state)
{
	static uint8_t big[1100];
	struct esim_err err = { 0 };
	static const struct {
		uint8_t tag;
		size_t len;
		int ok;
		size_t seglen;
	} cases[] = {
		{ 0x86, 1007, 0, 1020 }, { 0x86, 1008, -1, 0 }, { 0x87, 0, 0, 26 },
		{ 0x88, 1008, 0, 1020 }, { 0x88, 1009, -1, 0 }, { 0x88, 0, 0, 10 },
		{ 0x88, 110, 0, 120 }, { 0x88, 120, 0, 131 },
		{ 0x85, 10, -1, 0 }, { 0x86, 15, 0, 26 }, { 0x86, 16, 0, 42 },
		{ 0x86, 111, 0, 122 }, { 0x86, 112, 0, 139 },
	};

	(void)state;
	memset(big, 0x5A, sizeof(big));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bsp tx, rx;
		struct buf seg = BUF_INIT, back = BUF_INIT;
		int reason = 0;

		bsp_vector_state(&tx);
		bsp_vector_state(&rx);
		if (bsp_protect(&tx, cases[i].tag, big, cases[i].len, &seg, &err) != cases[i].ok)
			fail_msg("case %zu: tag %02X len %zu", i, cases[i].tag, cases[i].len);
		if (cases[i].ok == 0) {
			assert_int_equal(seg.len, cases[i].seglen);
			assert_int_equal(tx.ctr, 2);
			assert_int_equal(bsp_unprotect(&rx, (const uint8_t *)seg.buf, seg.len, &back,
						       &reason), 0);
			assert_int_equal(back.len, cases[i].len);
			if (cases[i].len)
				assert_memory_equal(back.buf, big, cases[i].len);
		} else {
			assert_int_equal(tx.ctr, 1);
			assert_int_equal(seg.len, 0);
		}
		buf_release(&seg);
		buf_release(&back);
	}
}

/* A full 87 -> 88 -> 88 -> 87 -> (new keys) 86 x3 chain, with a data-carrying 88 in the middle. */
static void test_bsp_chain(void **state)
{
	struct bsp tx, rx;
	struct esim_err err = { 0 };
	uint8_t data[2500];
	size_t off;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	bsp_vector_state(&tx);
	bsp_vector_state(&rx);
	for (off = 0; off < sizeof(data); off += 1007) {
		size_t n = sizeof(data) - off < 1007 ? sizeof(data) - off : 1007;
		uint8_t tag = off == 0 ? 0x87 : (off < 2000 ? 0x88 : 0x86);
		struct buf seg = BUF_INIT, back = BUF_INIT;
		int reason = 0;

		assert_int_equal(bsp_protect(&tx, tag, data + off, n, &seg, &err), 0);
		assert_int_equal(bsp_unprotect(&rx, (const uint8_t *)seg.buf, seg.len, &back, &reason), 0);
		assert_int_equal(back.len, n);
		assert_memory_equal(back.buf, data + off, n);
		buf_release(&seg);
		buf_release(&back);
	}
	assert_int_equal(tx.ctr, 4);
	assert_int_equal(rx.ctr, 4);
	assert_memory_equal(tx.mcv, rx.mcv, 16);
}

/* ---- keys, signatures ---- */

static EVP_PKEY *gen_pkey(const char *group)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);

	assert_non_null(k);
	return k;
}

/* Our key as an OpenSSL EVP_PKEY, through the PEM serialiser. */
static EVP_PKEY *to_pkey(const struct rsp_key *k)
{
	struct buf pem = BUF_INIT;
	struct esim_err err = { 0 };
	BIO *bio;
	EVP_PKEY *p;

	assert_int_equal(rsp_key_to_pem(k, &pem, &err), 0);
	assert_non_null(strstr(pem.buf, "-----BEGIN PRIVATE KEY-----"));
	bio = BIO_new_mem_buf(pem.buf, (int)pem.len);
	p = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	assert_non_null(p);
	BIO_free(bio);
	buf_wipe_release(&pem);
	return p;
}

static struct rsp_key *from_pkey(EVP_PKEY *p)
{
	unsigned char *der = NULL;
	int n = i2d_PrivateKey(p, &der);
	struct rsp_key *k = NULL;
	struct esim_err err = { 0 };

	assert_true(n > 0);
	if (rsp_key_load(der, (size_t)n, &k, &err) != 0)
		fail_msg("rsp_key_load: %s", err.msg);
	OPENSSL_clear_free(der, (size_t)n);
	return k;
}

struct certspec {
	const char *cn;
	const char *serial;              /* subject serialNumber */
	const char *nc_serial;           /* nameConstraints permitted dirName serialNumber */
	const char *nc_excluded;         /* nameConstraints excluded dirName serialNumber */
	const char *const *eins;         /* permittedEins entries, NULL-terminated */
	const char *policy;
	const char *rid;
	int bad_aki;
	int no_aki;
};

static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const struct certspec *s)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	uint8_t ski[20];
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	static long serial = 1;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, NULL);
	X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, NULL);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"XX", -1, -1, 0);
	if (s->serial)
		X509_NAME_add_entry_by_NID(name, NID_serialNumber, MBSTRING_ASC,
					   (const unsigned char *)s->serial, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)s->cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	assert_int_equal(X509_set_pubkey(x, key), 1);

	RAND_bytes(ski, sizeof(ski));
	ASN1_OCTET_STRING_set(os, ski, sizeof(ski));
	X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, X509V3_ADD_DEFAULT);
	if (!s->no_aki) {
		AUTHORITY_KEYID *ak = AUTHORITY_KEYID_new();
		const ASN1_OCTET_STRING *iski = issuer ? X509_get0_subject_key_id(issuer) : os;

		ak->keyid = ASN1_OCTET_STRING_dup(iski);
		if (s->bad_aki)
			ak->keyid->data[0] ^= 0xFF;
		X509_add1_ext_i2d(x, NID_authority_key_identifier, ak, 0, X509V3_ADD_DEFAULT);
		AUTHORITY_KEYID_free(ak);
	}
	ASN1_OCTET_STRING_free(os);

	if (s->policy) {
		CERTIFICATEPOLICIES *cp = sk_POLICYINFO_new_null();
		POLICYINFO *pi = POLICYINFO_new();

		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = OBJ_txt2obj(s->policy, 1);
		sk_POLICYINFO_push(cp, pi);
		X509_add1_ext_i2d(x, NID_certificate_policies, cp, 1, X509V3_ADD_DEFAULT);
		CERTIFICATEPOLICIES_free(cp);
	}
	if (s->rid) {
		GENERAL_NAMES *gns = sk_GENERAL_NAME_new_null();
		GENERAL_NAME *gn = GENERAL_NAME_new();

		GENERAL_NAME_set0_value(gn, GEN_RID, OBJ_txt2obj(s->rid, 1));
		sk_GENERAL_NAME_push(gns, gn);
		X509_add1_ext_i2d(x, NID_subject_alt_name, gns, 0, X509V3_ADD_DEFAULT);
		GENERAL_NAMES_free(gns);
	}
	if (s->nc_serial || s->nc_excluded) {
		NAME_CONSTRAINTS *nc = NAME_CONSTRAINTS_new();
		const char *vals[2] = { s->nc_serial, s->nc_excluded };

		for (int k = 0; k < 2; k++) {
			STACK_OF(GENERAL_SUBTREE) *sk;
			GENERAL_SUBTREE *st;
			GENERAL_NAME *gn;
			X509_NAME *dn;

			if (!vals[k])
				continue;
			sk = sk_GENERAL_SUBTREE_new_null();
			st = GENERAL_SUBTREE_new();
			gn = GENERAL_NAME_new();
			dn = X509_NAME_new();
			X509_NAME_add_entry_by_txt(dn, "O", MBSTRING_ASC, (const unsigned char *)"EUM", -1, -1, 0);
			X509_NAME_add_entry_by_NID(dn, NID_serialNumber, MBSTRING_ASC,
						   (const unsigned char *)vals[k], -1, -1, 0);
			GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
			GENERAL_NAME_free(st->base);
			st->base = gn;
			sk_GENERAL_SUBTREE_push(sk, st);
			if (k == 0)
				nc->permittedSubtrees = sk;
			else
				nc->excludedSubtrees = sk;
		}
		X509_add1_ext_i2d(x, NID_name_constraints, nc, 1, X509V3_ADD_DEFAULT);
		NAME_CONSTRAINTS_free(nc);
	}
	if (s->eins) {
		struct buf v = BUF_INIT;
		size_t m = der_begin(&v, 0x30);
		ASN1_OBJECT *o = OBJ_txt2obj("2.23.146.1.2.2.0", 1);
		ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e;

		for (const char *const *p = s->eins; *p; p++)
			der_put_tlv(&v, 0x13, *p, strlen(*p));
		der_end(&v, m);
		ASN1_OCTET_STRING_set(data, (const unsigned char *)v.buf, (int)v.len);
		e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, data);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(data);
		ASN1_OBJECT_free(o);
		buf_release(&v);
	}
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static struct rsp_cert *to_rsp_cert(X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	struct rsp_cert *c = NULL;
	struct esim_err err = { 0 };
	const uint8_t *d;
	size_t dl;

	assert_true(n > 0);
	if (rsp_cert_load(der, (size_t)n, &c, &err) != 0)
		fail_msg("rsp_cert_load: %s", err.msg);
	rsp_cert_der(c, &d, &dl);
	assert_int_equal(dl, (size_t)n);
	assert_memory_equal(d, der, dl);
	OPENSSL_free(der);
	return c;
}

static void test_sign_verify(void **state)
{
	static const enum rsp_curve curves[] = { RSP_CURVE_P256, RSP_CURVE_BRP256 };
	static const char msg[] = "30 { 80 transactionId ... } as signed bytes";
	struct esim_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct rsp_key *k = NULL, *k2;
		uint8_t pub[RSP_PUB_LEN], sig[RSP_SIG_LEN], sig2[RSP_SIG_LEN];
		struct certspec spec = { .cn = "signer" };
		EVP_PKEY *p;
		X509 *x;
		struct rsp_cert *c;

		assert_int_equal(rsp_ecka_generate(curves[i], &k, pub, &err), 0);
		p = to_pkey(k);
		x = make_cert(p, NULL, NULL, &spec);
		c = to_rsp_cert(x);
		assert_int_equal(rsp_cert_curve(c), curves[i]);
		/* PEM round trip of the key keeps it usable. */
		k2 = from_pkey(p);
		assert_int_equal(rsp_key_curve(k2), curves[i]);

		for (int round = 0; round < 8; round++) {
			assert_int_equal(rsp_sign(round & 1 ? k2 : k, (const uint8_t *)msg, sizeof(msg),
						  sig, &err), 0);
			assert_int_equal(rsp_cert_verify(c, (const uint8_t *)msg, sizeof(msg), sig), 1);
		}
		/* ECDSA is randomised: two signatures differ, both verify. */
		assert_int_equal(rsp_sign(k, (const uint8_t *)msg, sizeof(msg), sig2, &err), 0);
		assert_memory_not_equal(sig, sig2, RSP_SIG_LEN);
		/* Flipped byte in the signature (r and s halves) or in the message. */
		for (size_t pos = 0; pos < RSP_SIG_LEN; pos += 7) {
			sig[pos] ^= 0x01;
			assert_int_equal(rsp_cert_verify(c, (const uint8_t *)msg, sizeof(msg), sig), 0);
			sig[pos] ^= 0x01;
		}
		assert_int_equal(rsp_cert_verify(c, (const uint8_t *)msg, sizeof(msg) - 1, sig), 0);
		{
			char m2[sizeof(msg)];

			memcpy(m2, msg, sizeof(msg));
			m2[3] ^= 0x20;
			assert_int_equal(rsp_cert_verify(c, (const uint8_t *)m2, sizeof(m2), sig), 0);
		}
		/* r = 0 or s = 0 never verifies. */
		memset(sig2, 0, 32);
		assert_int_equal(rsp_cert_verify(c, (const uint8_t *)msg, sizeof(msg), sig2), 0);
		memset(sig2, 0xFF, RSP_SIG_LEN);
		assert_int_equal(rsp_cert_verify(c, (const uint8_t *)msg, sizeof(msg), sig2), 0);

		rsp_cert_free(c);
		X509_free(x);
		EVP_PKEY_free(p);
		rsp_key_free(k);
		rsp_key_free(k2);
	}
}

static void test_key_load_errors(void **state)
{
	struct rsp_key *k = (struct rsp_key *)1;
	struct rsp_cert *c = (struct rsp_cert *)1;
	struct esim_err err = { 0 };
	static const char junk_pem[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	(void)state;
	assert_int_equal(rsp_key_load((const uint8_t *)junk_pem, sizeof(junk_pem) - 1, &k, &err), -1);
	assert_null(k);
	assert_true(err.msg[0] != '\0');
	k = (struct rsp_key *)1;
	assert_int_equal(rsp_key_load(junk, sizeof(junk), &k, &err), -1);
	assert_null(k);
	assert_int_equal(rsp_key_load(junk, 0, &k, &err), -1);
	assert_int_equal(rsp_cert_load(junk, sizeof(junk), &c, &err), -1);
	assert_null(c);
	assert_int_equal(rsp_cert_load((const uint8_t *)junk_pem, sizeof(junk_pem) - 1, &c, &err), -1);

	/* An RSA key or a P-384 key is refused. */
	{
		EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp384r1");
		unsigned char *der = NULL;
		int n = i2d_PrivateKey(p, &der);

		assert_true(n > 0);
		assert_int_equal(rsp_key_load(der, (size_t)n, &k, &err), -1);
		assert_non_null(strstr(err.msg, "prime256v1"));
		OPENSSL_free(der);
		EVP_PKEY_free(p);
	}
	/* Trailing garbage after a DER key is refused. */
	{
		EVP_PKEY *p = gen_pkey("prime256v1");
		unsigned char *der = NULL;
		int n = i2d_PrivateKey(p, &der);
		uint8_t *more = malloc((size_t)n + 1);

		memcpy(more, der, (size_t)n);
		more[n] = 0;
		assert_int_equal(rsp_key_load(more, (size_t)n + 1, &k, &err), -1);
		assert_int_equal(rsp_key_load(more, (size_t)n, &k, &err), 0);
		rsp_key_free(k);
		free(more);
		OPENSSL_free(der);
		EVP_PKEY_free(p);
	}
	rsp_key_free(NULL);
	rsp_cert_free(NULL);
}

/* ---- certificates made here (no shared files needed) ---- */

#define EID_OK "89049032123451234512345678901235"
#define EID_OTHER "89049033123451234512345678901234"

static void test_generated_chain(void **state)
{
	static const char *const groups[] = { "prime256v1", "brainpoolP256r1" };
	static const enum rsp_curve curves[] = { RSP_CURVE_P256, RSP_CURVE_BRP256 };

	(void)state;
	for (size_t g = 0; g < 2; g++) {
		EVP_PKEY *ci_k = gen_pkey(groups[g]), *eum_k = gen_pkey(groups[g]);
		EVP_PKEY *euicc_k = gen_pkey(groups[g]), *other_k = gen_pkey(groups[g]);
		struct certspec ci_s = { .cn = "Test CI", .policy = "2.23.146.1.2.1.0" };
		struct certspec eum_s = { .cn = "EUM", .nc_serial = "89049032", .policy = "2.23.146.1.2.1.2" };
		struct certspec euicc_s = { .cn = "eUICC", .serial = EID_OK, .policy = "2.23.146.1.2.1.1" };
		struct certspec dp_s = { .cn = "DPauth", .policy = "2.23.146.1.2.1.4", .rid = "2.999.10" };
		struct certspec bad_aki_s = { .cn = "eUICC2", .serial = EID_OK, .bad_aki = 1 };
		struct certspec no_aki_s = { .cn = "eUICC3", .serial = EID_OK, .no_aki = 1 };
		X509 *ci = make_cert(ci_k, NULL, NULL, &ci_s);
		X509 *eum = make_cert(eum_k, ci_k, ci, &eum_s);
		X509 *euicc = make_cert(euicc_k, eum_k, eum, &euicc_s);
		X509 *dp = make_cert(other_k, ci_k, ci, &dp_s);
		X509 *bad_aki = make_cert(euicc_k, eum_k, eum, &bad_aki_s);
		X509 *no_aki = make_cert(euicc_k, eum_k, eum, &no_aki_s);
		/* Same names and AKI as the real EUM but signed by another key. */
		X509 *forged = make_cert(euicc_k, other_k, eum, &euicc_s);
		struct rsp_cert *c_ci = to_rsp_cert(ci), *c_eum = to_rsp_cert(eum);
		struct rsp_cert *c_euicc = to_rsp_cert(euicc), *c_dp = to_rsp_cert(dp);
		struct rsp_cert *c_bad = to_rsp_cert(bad_aki), *c_noaki = to_rsp_cert(no_aki);
		struct rsp_cert *c_forged = to_rsp_cert(forged);
		uint8_t ski[32], aki[32];
		char txt[64];
		int sl, al;

		assert_int_equal(rsp_cert_curve(c_ci), curves[g]);
		assert_int_equal(rsp_cert_signed_by(c_ci, c_ci), 1);
		assert_int_equal(rsp_cert_signed_by(c_eum, c_ci), 1);
		assert_int_equal(rsp_cert_signed_by(c_euicc, c_eum), 1);
		assert_int_equal(rsp_cert_signed_by(c_dp, c_ci), 1);
		assert_int_equal(rsp_cert_signed_by(c_euicc, c_ci), 0);
		assert_int_equal(rsp_cert_signed_by(c_eum, c_euicc), 0);
		assert_int_equal(rsp_cert_signed_by(c_dp, c_eum), 0);
		assert_int_equal(rsp_cert_signed_by(c_forged, c_eum), 0);
		assert_int_equal(rsp_cert_signed_by(c_bad, c_eum), 0);      /* AKI != SKI */
		assert_int_equal(rsp_cert_signed_by(c_noaki, c_eum), 1);    /* no AKI: signature only */
		assert_int_equal(rsp_cert_signed_by(NULL, c_eum), 0);

		sl = rsp_cert_ski(c_eum, ski, sizeof(ski));
		al = rsp_cert_aki(c_euicc, aki, sizeof(aki));
		assert_int_equal(sl, 20);
		assert_int_equal(al, 20);
		assert_memory_equal(ski, aki, 20);
		assert_int_equal(rsp_cert_ski(c_eum, ski, 19), -1);
		assert_int_equal(rsp_cert_aki(c_noaki, aki, sizeof(aki)), -1);

		assert_int_equal(rsp_cert_eum_permits(c_eum, EID_OK), 1);
		assert_int_equal(rsp_cert_eum_permits(c_eum, EID_OTHER), 0);
		assert_int_equal(rsp_cert_eum_permits(c_eum, "8904903"), 0);
		assert_int_equal(rsp_cert_eum_permits(c_eum, ""), 0);
		assert_int_equal(rsp_cert_eum_permits(c_eum, NULL), 0);
		/* No constraint at all: any EID. */
		assert_int_equal(rsp_cert_eum_permits(c_ci, EID_OTHER), 1);

		assert_int_equal(rsp_cert_subject_serial(c_euicc, txt, sizeof(txt)), 0);
		assert_string_equal(txt, EID_OK);
		assert_int_equal(rsp_cert_subject_serial(c_euicc, txt, 32), -1);  /* no room for NUL */
		assert_int_equal(rsp_cert_subject_serial(c_euicc, txt, 33), 0);
		assert_int_equal(rsp_cert_subject_serial(c_eum, txt, sizeof(txt)), -1);

		assert_int_equal(rsp_cert_san_rid(c_dp, txt, sizeof(txt)), 0);
		assert_string_equal(txt, "2.999.10");
		assert_int_equal(rsp_cert_san_rid(c_dp, txt, 8), -1);
		assert_int_equal(rsp_cert_san_rid(c_dp, txt, 9), 0);
		assert_int_equal(rsp_cert_san_rid(c_euicc, txt, sizeof(txt)), -1);

		assert_int_equal(rsp_cert_has_policy(c_dp, "2.23.146.1.2.1.4"), 1);
		assert_int_equal(rsp_cert_has_policy(c_dp, "2.23.146.1.2.1.5"), 0);
		assert_int_equal(rsp_cert_has_policy(c_euicc, "2.23.146.1.2.1.1"), 1);
		assert_int_equal(rsp_cert_has_policy(c_bad, "2.23.146.1.2.1.1"), 0);
		assert_int_equal(rsp_cert_has_policy(c_dp, "not an oid"), 0);

		assert_int_equal(rsp_cert_valid_at(c_ci, (int64_t)time(NULL)), 1);
		assert_int_equal(rsp_cert_valid_at(c_ci, (int64_t)time(NULL) - 86400), 0);
		assert_int_equal(rsp_cert_valid_at(c_ci, (int64_t)time(NULL) + 400 * 86400LL), 0);

		/* Sign with the eUICC key, verify with its certificate. */
		{
			struct rsp_key *k = from_pkey(euicc_k);
			uint8_t sig[RSP_SIG_LEN];
			struct esim_err err = { 0 };

			assert_int_equal(rsp_sign(k, (const uint8_t *)"BF27", 4, sig, &err), 0);
			assert_int_equal(rsp_cert_verify(c_euicc, (const uint8_t *)"BF27", 4, sig), 1);
			assert_int_equal(rsp_cert_verify(c_eum, (const uint8_t *)"BF27", 4, sig), 0);
			rsp_key_free(k);
		}

		rsp_cert_free(c_ci);
		rsp_cert_free(c_eum);
		rsp_cert_free(c_euicc);
		rsp_cert_free(c_dp);
		rsp_cert_free(c_bad);
		rsp_cert_free(c_noaki);
		rsp_cert_free(c_forged);
		X509_free(ci);
		X509_free(eum);
		X509_free(euicc);
		X509_free(dp);
		X509_free(bad_aki);
		X509_free(no_aki);
		X509_free(forged);
		EVP_PKEY_free(ci_k);
		EVP_PKEY_free(eum_k);
		EVP_PKEY_free(euicc_k);
		EVP_PKEY_free(other_k);
	}
}

/* EUM constraint variants: permittedEins, excluded subtrees, both forms together. */
static void test_eum_constraints(void **state)
{
	static const char *const eins[] = { "89049032", "890490991", NULL };
	static const char *const eins_none[] = { NULL };
	static const struct {
		struct certspec spec;
		const char *eid;
		int want;
	} cases[] = {
		{ { .cn = "e1", .eins = eins }, EID_OK, 1 },
		{ { .cn = "e1", .eins = eins }, "89049099123451234512345678901234", 1 },
		{ { .cn = "e1", .eins = eins }, "89049099023451234512345678901234", 0 },
		{ { .cn = "e1", .eins = eins }, EID_OTHER, 0 },
		{ { .cn = "e2", .eins = eins_none }, EID_OK, 0 },          /* empty list permits none */
		{ { .cn = "e3", .nc_serial = "89049032", .eins = eins }, "89049099123451234512345678901234", 1 },
		{ { .cn = "e4", .nc_serial = "8904", .nc_excluded = "890490321" }, EID_OK, 0 },
		{ { .cn = "e4", .nc_serial = "8904", .nc_excluded = "890490321" }, EID_OTHER, 1 },
		{ { .cn = "e5", .nc_excluded = "89049033" }, EID_OK, 1 },
		{ { .cn = "e5", .nc_excluded = "89049033" }, EID_OTHER, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *k = gen_pkey("prime256v1");
		X509 *x = make_cert(k, NULL, NULL, &cases[i].spec);
		struct rsp_cert *c = to_rsp_cert(x);
		int got = rsp_cert_eum_permits(c, cases[i].eid);

		if (got != cases[i].want)
			fail_msg("case %zu (%s, %s): got %d", i, cases[i].spec.cn, cases[i].eid, got);
		rsp_cert_free(c);
		X509_free(x);
		EVP_PKEY_free(k);
	}
}

static void test_cert_pem(void **state)
{
	EVP_PKEY *k = gen_pkey("brainpoolP256r1");
	struct certspec s = { .cn = "pem" };
	X509 *x = make_cert(k, NULL, NULL, &s);
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	struct rsp_cert *a = NULL, *b;
	struct esim_err err = { 0 };
	const uint8_t *d1, *d2;
	size_t l1, l2;

	(void)state;
	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &pem);
	assert_int_equal(rsp_cert_load((const uint8_t *)pem, (size_t)n, &a, &err), 0);
	b = to_rsp_cert(x);
	rsp_cert_der(a, &d1, &l1);
	rsp_cert_der(b, &d2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(d1, d2, l1);
	assert_int_equal(rsp_cert_curve(a), RSP_CURVE_BRP256);
	rsp_cert_free(a);
	rsp_cert_free(b);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* ---- SGP.26 test PKI (skipped when the files are not there) ---- */

static char sgp26_dir[1024];

static int sgp26_setup(void **state)
{
	const char *env = getenv("ESIMCTL_SGP26");
	const char *src = getenv("ESIMCTL_SRC");
	char probe[1200];
	FILE *f;

	(void)state;
	if (env && *env)
		snprintf(sgp26_dir, sizeof(sgp26_dir), "%s", env);
	else if (src && *src)
		snprintf(sgp26_dir, sizeof(sgp26_dir), "%s/../shared/sgp26", src);
	else
		snprintf(sgp26_dir, sizeof(sgp26_dir), "../shared/sgp26");
	snprintf(probe, sizeof(probe), "%s/CertificateIssuer/CERT_CI_ECDSA_NIST.der", sgp26_dir);
	f = fopen(probe, "rb");
	if (!f)
		sgp26_dir[0] = '\0';
	else
		fclose(f);
	return 0;
}

static struct rsp_cert *sgp26_cert(const char *rel)
{
	char path[1400];
	struct buf b = BUF_INIT;
	struct rsp_cert *c = NULL;
	struct esim_err err = { 0 };

	snprintf(path, sizeof(path), "%s/%s", sgp26_dir, rel);
	if (read_file(path, &b) < 0)
		fail_msg("cannot read %s", path);
	if (rsp_cert_load((const uint8_t *)b.buf, b.len, &c, &err) != 0)
		fail_msg("%s: %s", rel, err.msg);
	buf_release(&b);
	return c;
}

static struct rsp_key *sgp26_key(const char *rel)
{
	char path[1400];
	struct buf b = BUF_INIT;
	struct rsp_key *k = NULL;
	struct esim_err err = { 0 };

	snprintf(path, sizeof(path), "%s/%s", sgp26_dir, rel);
	if (read_file(path, &b) < 0)
		fail_msg("cannot read %s", path);
	if (rsp_key_load((const uint8_t *)b.buf, b.len, &k, &err) != 0)
		fail_msg("%s: %s", rel, err.msg);
	buf_wipe_release(&b);
	return k;
}

#define NEED_SGP26()                                                                  \
	do {                                                                          \
		if (!sgp26_dir[0]) {                                                  \
			print_message("SGP.26 files not found (set ESIMCTL_SGP26 or "  \
				      "ESIMCTL_SRC): skipping\n");                    \
			skip();                                                       \
		}                                                                     \
	} while (0)

static const struct {
	const char *child, *issuer;
	int want;
} sgp26_chain[] = {
	{ "DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der", "CertificateIssuer/CERT_CI_ECDSA_NIST.der", 1 },
	{ "DPauth/CERT_S_SM_DPauth_ECDSA_BRP.der", "CertificateIssuer/CERT_CI_ECDSA_BRP.der", 1 },
	{ "DPpb/CERT_S_SM_DPpb_ECDSA_NIST.der", "CertificateIssuer/CERT_CI_ECDSA_NIST.der", 1 },
	{ "DPpb/CERT_S_SM_DPpb_ECDSA_BRP.der", "CertificateIssuer/CERT_CI_ECDSA_BRP.der", 1 },
	{ "EUM/CERT_EUM_ECDSA_NIST.der", "CertificateIssuer/CERT_CI_ECDSA_NIST.der", 1 },
	{ "EUM/CERT_EUM_ECDSA_BRP.der", "CertificateIssuer/CERT_CI_ECDSA_BRP.der", 1 },
	{ "eUICC/CERT_EUICC_ECDSA_NIST.der", "EUM/CERT_EUM_ECDSA_NIST.der", 1 },
	{ "eUICC/CERT_EUICC_ECDSA_BRP.der", "EUM/CERT_EUM_ECDSA_BRP.der", 1 },
	{ "CertificateIssuer/CERT_CI_ECDSA_NIST.pem", "CertificateIssuer/CERT_CI_ECDSA_NIST.der", 1 },
	{ "DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der", "CertificateIssuer/CERT_CI_ECDSA_BRP.der", 0 },
	{ "DPauth/CERT_S_SM_DPauth_ECDSA_BRP.der", "CertificateIssuer/CERT_CI_ECDSA_NIST.der", 0 },
	{ "eUICC/CERT_EUICC_ECDSA_NIST.der", "CertificateIssuer/CERT_CI_ECDSA_NIST.der", 0 },
	{ "EUM/CERT_EUM_ECDSA_NIST.der", "EUM/CERT_EUM_ECDSA_NIST.der", 0 },
	{ "negative/CERT_EUICC_ECDSA_NIST_INVALID.der", "EUM/CERT_EUM_ECDSA_NIST.der", 0 },
	{ "negative/CERT_EUM_ECDSA_NIST_INVALID.der", "CertificateIssuer/CERT_CI_ECDSA_NIST.der", 0 },
	{ "negative/CERT_EUM_ECDSA_NIST_UNKNOWN_CI.der", "CertificateIssuer/CERT_CI_ECDSA_NIST.der", 0 },
	{ "negative/CERT_EUM_ECDSA_NIST_UNKNOWN_CI.der", "negative/CERT_UNKNOWN_CI_ECDSA_NIST.der", 1 },
	{ "negative/CERT_EUICC_ECDSA_NIST_INVALID_EID.der", "EUM/CERT_EUM_ECDSA_NIST.der", 1 },
};

static void test_sgp26_chain(void **state)
{
	(void)state;
	NEED_SGP26();
	for (size_t i = 0; i < sizeof(sgp26_chain) / sizeof(sgp26_chain[0]); i++) {
		struct rsp_cert *c = sgp26_cert(sgp26_chain[i].child);
		struct rsp_cert *p = sgp26_cert(sgp26_chain[i].issuer);

		if (rsp_cert_signed_by(c, p) != sgp26_chain[i].want)
			fail_msg("%s signed by %s: want %d", sgp26_chain[i].child, sgp26_chain[i].issuer,
				 sgp26_chain[i].want);
		rsp_cert_free(c);
		rsp_cert_free(p);
	}
}

static void test_sgp26_attributes(void **state)
{
	struct rsp_cert *ci, *ci_brp, *eum, *euicc, *dpauth, *dppb, *inv_eid;
	uint8_t ski[20];
	char txt[64];

	(void)state;
	NEED_SGP26();
	ci = sgp26_cert("CertificateIssuer/CERT_CI_ECDSA_NIST.der");
	ci_brp = sgp26_cert("CertificateIssuer/CERT_CI_ECDSA_BRP.der");
	eum = sgp26_cert("EUM/CERT_EUM_ECDSA_NIST.der");
	euicc = sgp26_cert("eUICC/CERT_EUICC_ECDSA_NIST.der");
	dpauth = sgp26_cert("DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der");
	dppb = sgp26_cert("DPpb/CERT_S_SM_DPpb_ECDSA_BRP.der");
	inv_eid = sgp26_cert("negative/CERT_EUICC_ECDSA_NIST_INVALID_EID.der");

	assert_int_equal(rsp_cert_ski(ci, ski, sizeof(ski)), 20);
	assert_bytes(ski, 20, "F54172BDF98A95D65CBEB88A38A1C11D800A85C3");
	assert_int_equal(rsp_cert_ski(ci_brp, ski, sizeof(ski)), 20);
	assert_bytes(ski, 20, "C0BC70BA36929D43B467FF57570530E57AB8FCD8");
	assert_int_equal(rsp_cert_aki(dpauth, ski, sizeof(ski)), 20);
	assert_bytes(ski, 20, "F54172BDF98A95D65CBEB88A38A1C11D800A85C3");
	assert_int_equal(rsp_cert_curve(ci), RSP_CURVE_P256);
	assert_int_equal(rsp_cert_curve(ci_brp), RSP_CURVE_BRP256);

	assert_int_equal(rsp_cert_subject_serial(euicc, txt, sizeof(txt)), 0);
	assert_string_equal(txt, "89049032123451234512345678901235");
	assert_int_equal(rsp_cert_eum_permits(eum, txt), 1);
	assert_int_equal(rsp_cert_eum_permits(eum, "89049033123451234512345678901234"), 0);
	assert_int_equal(rsp_cert_subject_serial(inv_eid, txt, sizeof(txt)), 0);
	assert_int_equal(rsp_cert_eum_permits(eum, txt), 0);

	assert_int_equal(rsp_cert_san_rid(dpauth, txt, sizeof(txt)), 0);
	assert_string_equal(txt, "2.999.10");
	assert_int_equal(rsp_cert_san_rid(eum, txt, sizeof(txt)), 0);
	assert_string_equal(txt, "2.999.5");
	assert_int_equal(rsp_cert_has_policy(dpauth, "2.23.146.1.2.1.4"), 1);
	assert_int_equal(rsp_cert_has_policy(dpauth, "2.23.146.1.2.1.5"), 0);
	assert_int_equal(rsp_cert_has_policy(dppb, "2.23.146.1.2.1.5"), 1);
	assert_int_equal(rsp_cert_has_policy(eum, "2.23.146.1.2.1.2"), 1);

	/* 2020-04-01 .. 2054: valid in 2030, not in 2019 (core has no clock: time is an argument). */
	assert_int_equal(rsp_cert_valid_at(eum, 1893456000), 1);
	assert_int_equal(rsp_cert_valid_at(eum, 1546300800), 0);
	{
		struct rsp_cert *exp = sgp26_cert("negative/CERT_EUICC_ECDSA_NIST_EXPIRED.der");

		assert_int_equal(rsp_cert_valid_at(exp, 1893456000), 0);
		assert_int_equal(rsp_cert_valid_at(exp, 1356998400), 1);   /* 2013 */
		rsp_cert_free(exp);
	}

	rsp_cert_free(ci);
	rsp_cert_free(ci_brp);
	rsp_cert_free(eum);
	rsp_cert_free(euicc);
	rsp_cert_free(dpauth);
	rsp_cert_free(dppb);
	rsp_cert_free(inv_eid);
}

/* PEM keys with a leading EC PARAMETERS block; sign with SK, verify with the certificate. */
static void test_sgp26_keys(void **state)
{
	static const struct {
		const char *key, *cert;
		enum rsp_curve curve;
	} pairs[] = {
		{ "DPauth/SK_S_SM_DPauth_ECDSA_NIST.pem", "DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der", RSP_CURVE_P256 },
		{ "DPauth/SK_S_SM_DPauth_ECDSA_BRP.pem", "DPauth/CERT_S_SM_DPauth_ECDSA_BRP.der", RSP_CURVE_BRP256 },
		{ "DPpb/SK_S_SM_DPpb_ECDSA_NIST.pem", "DPpb/CERT_S_SM_DPpb_ECDSA_NIST.der", RSP_CURVE_P256 },
		{ "eUICC/SK_EUICC_ECDSA_NIST.pem", "eUICC/CERT_EUICC_ECDSA_NIST.der", RSP_CURVE_P256 },
		{ "eUICC/SK_EUICC_ECDSA_BRP.pem", "eUICC/CERT_EUICC_ECDSA_BRP.der", RSP_CURVE_BRP256 },
	};
	static const uint8_t msg[] = { 0x30, 0x03, 0x80, 0x01, 0x00 };
	struct esim_err err = { 0 };

	(void)state;
	NEED_SGP26();
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct rsp_key *k = sgp26_key(pairs[i].key);
		struct rsp_cert *c = sgp26_cert(pairs[i].cert);
		uint8_t sig[RSP_SIG_LEN];

		assert_int_equal(rsp_key_curve(k), pairs[i].curve);
		assert_int_equal(rsp_sign(k, msg, sizeof(msg), sig, &err), 0);
		assert_int_equal(rsp_cert_verify(c, msg, sizeof(msg), sig), 1);
		sig[40] ^= 0x80;
		assert_int_equal(rsp_cert_verify(c, msg, sizeof(msg), sig), 0);
		rsp_key_free(k);
		rsp_cert_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_cc),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_base64_table),
		cmocka_unit_test(test_base64_roundtrip),
		cmocka_unit_test(test_ecdh_vector),
		cmocka_unit_test(test_kdf_vectors),
		cmocka_unit_test(test_ecdh_generated),
		cmocka_unit_test(test_bsp_vectors),
		cmocka_unit_test(test_bsp_icv),
		cmocka_unit_test(test_bsp_ppk_86),
		cmocka_unit_test(test_bsp_raw_matches),
		cmocka_unit_test(test_bsp_bad_padding),
		cmocka_unit_test(test_bsp_tamper),
		cmocka_unit_test(test_bsp_structure),
		cmocka_unit_test(test_bsp_limits),
		cmocka_unit_test(test_bsp_chain),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_key_load_errors),
		cmocka_unit_test(test_generated_chain),
		cmocka_unit_test(test_eum_constraints),
		cmocka_unit_test(test_cert_pem),
		cmocka_unit_test(test_sgp26_chain),
		cmocka_unit_test(test_sgp26_attributes),
		cmocka_unit_test(test_sgp26_keys),
	};

	return cmocka_run_group_tests(tests, sgp26_setup, NULL);
}
