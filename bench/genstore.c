/*
 * genstore.c - write a synthetic esimctl store (docs/store-format.md) for the benchmarks.
 *
 *	genstore PROFILES OUT.json
 *
 * The output is deterministic and in the writer's exact layout.  Everything else scales
 * with PROFILES:
 *   devices        PROFILES / 10 + 5 (kinds and platforms vary; the first is the primary phone)
 *   bindings       one live binding per profile (1 in 20 pending), a second active one for
 *                  a quarter of the concurrent carriers' profiles, and a released one
 *                  (an earlier device) for every third profile: about 1.4 per profile
 *   history        one "add" per profile, one "transfer" per released binding: about 1.3
 *   notifications  PROFILES / 200 + 1
 * Profile ids are distinct by construction (a bijection of the index on 32 bits).
 * Carriers cycle through the built-in policy table plus carriers it does not know.
 * Profile 0 is Verizon (sequential, no cooldown) and active only on dev-00001, which is a
 * phone; bench/run.sh transfers it to dev-00002 (a phone holding nothing of it).
 *
 * Built and run by bench/run.sh with the system compiler; it depends on libc only.
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r, fdopen, fchmod */

#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *const carriers[] = {
	"Verizon", "T-Mobile", "Vodafone", "AT&T", "Orange", "EE", "Telstra", "Singtel",
	"NTT Docomo", "Etisalat", "China Mobile", "Reliance Jio", "MTN", "America Movil",
	"Fjord Mobile", "Kestrel Telecom", "Nimbus Wireless",
};
#define NCARRIERS (sizeof(carriers) / sizeof(carriers[0]))

static const char *const kinds[] = { "phone", "phone", "tablet", "watch", "laptop", "hotspot" };
static const char *const platforms[] = { "android", "ios", "android", "ios", "linux", NULL };

/* 2026-01-01T00:00:00Z */
#define BASE_TIME INT64_C(1767225600)

static void iso(int64_t t, char out[21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void profile_id(size_t i, char out[9])
{
	uint32_t v = (uint32_t)i * 2654435761u ^ 0x5bd1e995u;

	snprintf(out, 9, "%08" PRIx32, v);
}

static int concurrent(size_t c)
{
	return c == 1 || c == 2 || c == 4 || c == 6 || c == 8;
}

int main(int argc, char **argv)
{
	size_t np, nd, nn, first;
	char *end;
	FILE *f;
	int fd;
	char t1[21], t2[21], id[9];

	if (argc != 3) {
		fprintf(stderr, "usage: genstore PROFILES OUT.json\n");
		return 2;
	}
	np = (size_t)strtoull(argv[1], &end, 10);
	if (*end || np < 1 || np > 10000000) {
		fprintf(stderr, "genstore: PROFILES must be 1 to 10000000\n");
		return 2;
	}
	nd = np / 10 + 5;
	nn = np / 200 + 1;
	/* 0600 like a store esimctl writes (it warns about a store others can read) */
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w"))) {
		perror(argv[2]);
		return 1;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);

	fputs("{\"schema\":1,\n\"devices\":[\n", f);
	for (size_t d = 0; d < nd; d++) {
		const char *kind = d < 3 ? "phone" : kinds[d % 6];
		const char *plat = d < 3 ? "android" : platforms[d % 6];

		iso(BASE_TIME - 86400 * 30 + (int64_t)d * 60, t1);
		fprintf(f, "%s{\"name\":\"dev-%05zu\",\"kind\":\"%s\"", d ? ",\n" : "", d + 1, kind);
		if (plat)
			fprintf(f, ",\"platform\":\"%s\"", plat);
		if (d % 4 == 0)
			fprintf(f, ",\"eid\":\"890490320000000000000%011zu\"", d);
		if (!strcmp(kind, "phone") && d % 3 == 0)
			fprintf(f, ",\"imei\":\"35693803%07zu\"", d % 10000000);
		fprintf(f, ",\"primary\":%s,\"created\":\"%s\"}", d == 0 ? "true" : "false", t1);
	}

	fputs("\n],\n\"profiles\":[\n", f);
	for (size_t i = 0; i < np; i++) {
		size_t c = i % NCARRIERS;
		int64_t created = BASE_TIME + (int64_t)i * 37;

		profile_id(i, id);
		iso(created, t1);
		fprintf(f, "%s{\"id\":\"%s\",\"iccid\":\"8944%015zu\",\"carrier\":\"%s\",\"plan\":\"%s\"",
			i ? ",\n" : "", id, i, carriers[c], i % 7 == 3 ? "data-only" : "voice+data");
		if (i % 5 == 0)
			fprintf(f, ",\"nickname\":\"line-%zu\"", i);
		fprintf(f, ",\"activation_code\":{\"smdp\":\"rsp.carrier%zu.example.com\","
			"\"matching_id\":\"QR-%04zX-%06zX-%02zX\"", c, i % 0xffff, i, c);
		if (i % 3 == 0)
			fputs(",\"oid\":\"1.3.6.1.4.1.31746\"", f);
		fprintf(f, ",\"cc_required\":%s}", i % 9 == 0 ? "true" : "false");
		if (i % 2 == 0)
			fprintf(f, ",\"provider\":\"%s\",\"profile_name\":\"%s plan %zu\","
				"\"profile_class\":\"operational\"", carriers[c], carriers[c], i % 50);
		fprintf(f, ",\"created\":\"%s\"", t1);
		if (i % 3 == 1) {
			iso(created + 86400 * 3, t2);
			fprintf(f, ",\"last_transfer\":\"%s\"", t2);
		}
		fputs("}", f);
	}

	fputs("\n],\n\"bindings\":[\n", f);
	first = 1;
	for (size_t i = 0; i < np; i++) {
		size_t c = i % NCARRIERS;
		/* profile 0 lives on dev-00001 only; the others spread over all devices */
		size_t dev = i == 0 ? 0 : 3 + (i * 7) % (nd - 3);
		size_t prev = i == 0 ? 0 : (dev + 1 - 3) % (nd - 3) + 3;
		int64_t created = BASE_TIME + (int64_t)i * 37;

		profile_id(i, id);
		if (i % 3 == 1) {
			iso(created, t1);
			iso(created + 86400 * 3, t2);
			fprintf(f, "%s{\"profile\":\"%s\",\"device\":\"dev-%05zu\",\"state\":\"released\","
				"\"since\":\"%s\",\"released_at\":\"%s\"}", first ? "" : ",\n", id, prev + 1, t2, t2);
			first = 0;
		}
		iso(created + (i % 3 == 1 ? 86400 * 3 : 0), t1);
		if (i % 20 == 19) {
			iso(BASE_TIME + 86400 * 400, t2);
			fprintf(f, "%s{\"profile\":\"%s\",\"device\":\"dev-%05zu\",\"state\":\"pending\","
				"\"since\":\"%s\",\"ready_at\":\"%s\"}", first ? "" : ",\n", id, dev + 1, t1, t2);
		} else {
			fprintf(f, "%s{\"profile\":\"%s\",\"device\":\"dev-%05zu\",\"state\":\"active\","
				"\"since\":\"%s\"}", first ? "" : ",\n", id, dev + 1, t1);
		}
		first = 0;
		if (i && concurrent(c) && i % 4 == 0 && prev != dev)
			fprintf(f, ",\n{\"profile\":\"%s\",\"device\":\"dev-%05zu\",\"state\":\"active\","
				"\"since\":\"%s\"}", id, prev + 1, t1);
	}

	fputs("\n],\n\"history\":[\n", f);
	for (size_t i = 0; i < np; i++) {
		size_t dev = i == 0 ? 0 : 3 + (i * 7) % (nd - 3);
		size_t prev = i == 0 ? 0 : (dev + 1 - 3) % (nd - 3) + 3;
		int64_t created = BASE_TIME + (int64_t)i * 37;

		profile_id(i, id);
		iso(created, t1);
		fprintf(f, "%s{\"time\":\"%s\",\"op\":\"add\",\"profile\":\"%s\",\"to\":\"dev-%05zu\","
			"\"outcome\":\"ok\"}", i ? ",\n" : "", t1, id, (i % 3 == 1 ? prev : dev) + 1);
		if (i % 3 == 1) {
			iso(created + 86400 * 3, t2);
			fprintf(f, ",\n{\"time\":\"%s\",\"op\":\"transfer\",\"profile\":\"%s\",\"from\":\"dev-%05zu\","
				"\"to\":\"dev-%05zu\",\"outcome\":\"ok\",\"detail\":\"moved by the benchmark generator\"}",
				t2, id, prev + 1, dev + 1);
		}
	}

	fputs("\n],\n\"notifications\":[\n", f);
	for (size_t k = 0; k < nn; k++) {
		iso(BASE_TIME + (int64_t)k * 600, t1);
		fprintf(f, "%s{\"device\":\"dev-%05zu\",\"seq\":%zu,\"event\":\"%s\","
			"\"address\":\"rsp.carrier%zu.example.com\",\"iccid\":\"8944%015zu\","
			"\"data\":\"vycCAQ==\",\"queued\":\"%s\",\"attempts\":%zu%s}",
			k ? ",\n" : "", 1 + k % 3, k + 1, k % 2 ? "enable" : "install", k % NCARRIERS,
			k, t1, k % 4, k % 4 ? ",\"last_error\":\"HTTP 503\"" : "");
	}
	fputs("\n]}\n", f);
	if (fclose(f) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
