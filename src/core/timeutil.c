/*
 * timeutil.c - ISO 8601 UTC times <-> int64 seconds (see timeutil.h).
 *
 * Calendar arithmetic is the proleptic Gregorian days-from-civil algorithm (Howard
 * Hinnant, "chrono-Compatible Low-Level Date Algorithms"), so neither timegm() nor
 * the TZ environment is involved.  Years are 0000-9999, the range four digits hold.
 *
 * Choices the header leaves open:
 * - A time of day needs an explicit zone; "2026-11-21T10:00" is rejected rather
 *   than read as local time or UTC by guess.
 * - Lower-case 't' and 'z' are accepted (RFC 3339 §5.6 allows them).
 * - Seconds 60 (leap second) are rejected: POSIX time cannot represent them.
 * - A fraction is truncated, whether it follows seconds or minutes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esimctl/timeutil.h"

#define SECS_PER_DAY 86400
#define TIME_MIN (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define TIME_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */
#define SHOW_MAX 40
#define TIME_HINT "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][.frac] followed by Z, " \
	"+HH:MM or -HH:MM, e.g. 2026-11-21T10:00:00Z"

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December",
};

static int t_fail(struct esim_err *err, const char *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int t_fail(struct esim_err *err, const char *s, const char *fmt, ...)
{
	char shown[SHOW_MAX + 4];
	char msg[256];
	va_list ap;
	size_t i;

	for (i = 0; i < SHOW_MAX && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		shown[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i]) {
		memcpy(shown + i, "...", 3);
		i += 3;
	}
	shown[i] = '\0';
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	esim_fail(err, ESIM_E_USAGE, "time '%s': %s", shown, msg);
	return esim_hint(err, "%s", TIME_HINT);
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* Days since 1970-01-01 of a valid proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Exactly n digits at s[*pos]; advances *pos. */
static int take_digits(const char *s, size_t *pos, int n, int *val)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		char c = s[*pos + (size_t)i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*pos += (size_t)n;
	*val = v;
	return 0;
}

/* A 2-digit field in lo..hi, e.g. the hour. */
static int take_field(const char *s, size_t *pos, const char *part, int lo, int hi, int *val,
		      struct esim_err *err)
{
	size_t at = *pos;

	if (take_digits(s, pos, 2, val) < 0)
		return t_fail(err, s, "expected 2-digit %s at position %zu", part, at + 1);
	if (*val < lo || *val > hi)
		return t_fail(err, s, "%s %02d is out of range (%02d-%02d)", part, *val, lo, hi);
	return 0;
}

static int expect(const char *s, size_t *pos, char c, const char *after, struct esim_err *err)
{
	if (s[*pos] != c)
		return t_fail(err, s, "expected '%c' after the %s at position %zu", c, after,
			      *pos + 1);
	(*pos)++;
	return 0;
}

static int parse_zone(const char *s, size_t *pos, int64_t *offset, struct esim_err *err)
{
	int sign, oh = 0, om = 0;
	char c = s[*pos];

	if (c == 'Z' || c == 'z') {
		(*pos)++;
		*offset = 0;
		return 0;
	}
	if (c == '\0')
		return t_fail(err, s, "missing time zone (add 'Z' for UTC)");
	if (c != '+' && c != '-')
		return t_fail(err, s, "expected time zone 'Z', '+HH:MM' or '-HH:MM' at position %zu",
			      *pos + 1);
	sign = c == '-' ? -1 : 1;
	(*pos)++;
	/*
	 * Offsets in use run from -12:00 to +14:00 (the IANA time zone database), and
	 * none has had minutes other than 00, 15, 30 or 45 since 1972: anything else is a
	 * typo ("+05:03", "-20:00") that would silently shift the time by hours.
	 */
	if (take_field(s, pos, "zone offset hour", 0, 14, &oh, err) < 0 ||
	    expect(s, pos, ':', "zone offset hour", err) < 0 ||
	    take_field(s, pos, "zone offset minute", 0, 59, &om, err) < 0)
		return -1;
	if (oh == 14 && om != 0)
		return t_fail(err, s, "zone offset %c14:%02d is beyond %c14:00", c, om, c);
	if (om % 15)
		return t_fail(err, s, "zone offset minute %02d is not 00, 15, 30 or 45", om);
	*offset = sign * (int64_t)(oh * 3600 + om * 60);
	return 0;
}

/*
 * The form esimctl writes, "2026-11-21T10:00:00Z", in one pass; -1 for anything else
 * (another form, or an error, which time_parse() then reports).
 */
static int parse_written(const char *s, int64_t *out)
{
	static const unsigned char digits[] = { 0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18 };
	int y, mo, d, h, mi, se;

	if (strnlen(s, 21) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return -1;
	for (size_t i = 0; i < sizeof(digits); i++)
		if ((unsigned)(s[digits[i]] - '0') > 9)
			return -1;
#define TWO(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
	y = TWO(0) * 100 + TWO(2);
	mo = TWO(5);
	d = TWO(8);
	h = TWO(11);
	mi = TWO(14);
	se = TWO(17);
#undef TWO
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
		return -1;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * SECS_PER_DAY + h * 3600 + mi * 60 + se;
	return 0;
}

int time_parse(const char *s, int64_t *out, struct esim_err *err)
{
	int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
	int64_t offset = 0;
	size_t pos = 0;

	if (out)
		*out = 0;
	if (s && out && parse_written(s, out) == 0)
		return 0;
	if (!s || !*s) {
		esim_fail(err, ESIM_E_USAGE, "time: empty");
		return esim_hint(err, "%s", TIME_HINT);
	}
	if (take_digits(s, &pos, 4, &year) < 0)
		return t_fail(err, s, "expected 4-digit year at position 1");
	if (expect(s, &pos, '-', "year", err) < 0 ||
	    take_field(s, &pos, "month", 1, 12, &mon, err) < 0 ||
	    expect(s, &pos, '-', "month", err) < 0)
		return -1;
	if (take_digits(s, &pos, 2, &day) < 0)
		return t_fail(err, s, "expected 2-digit day at position %zu", pos + 1);
	if (day < 1 || day > days_in_month(year, mon))
		return t_fail(err, s, "day %02d is out of range for %s %04d (01-%02d)", day,
			      month_names[mon - 1], year, days_in_month(year, mon));

	if (s[pos] != '\0') {
		if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')
			return t_fail(err, s, "expected 'T' or the end after the date at "
				      "position %zu", pos + 1);
		pos++;
		if (take_field(s, &pos, "hour", 0, 23, &hour, err) < 0 ||
		    expect(s, &pos, ':', "hour", err) < 0 ||
		    take_field(s, &pos, "minute", 0, 59, &min, err) < 0)
			return -1;
		if (s[pos] == ':') {
			pos++;
			if (take_field(s, &pos, "second", 0, 59, &sec, err) < 0)
				return -1;
		}
		if (s[pos] == '.') {
			size_t digits = ++pos;

			while (s[pos] >= '0' && s[pos] <= '9')
				pos++;
			if (pos == digits)
				return t_fail(err, s, "expected digits of the fraction at position %zu",
					      pos + 1);
		}
		if (parse_zone(s, &pos, &offset, err) < 0)
			return -1;
		if (s[pos] != '\0')
			return t_fail(err, s, "unexpected '%c' at position %zu after the time zone",
				      s[pos], pos + 1);
	}
	if (out)
		*out = days_from_civil(year, (unsigned)mon, (unsigned)day) * SECS_PER_DAY +
		       hour * 3600 + min * 60 + sec - offset;
	return 0;
}

static void put_digits(char *p, unsigned v, int n)
{
	while (n--) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Times outside 0000-9999 are clamped so that the text always fits TIME_ISO_LEN. */
void time_format(int64_t t, char out[TIME_ISO_LEN])
{
	int64_t days, secs, y;
	unsigned m, d;

	if (t < TIME_MIN)
		t = TIME_MIN;
	if (t > TIME_MAX)
		t = TIME_MAX;
	days = t / SECS_PER_DAY;
	secs = t % SECS_PER_DAY;
	if (secs < 0) {
		secs += SECS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	memcpy(out, "0000-00-00T00:00:00Z", TIME_ISO_LEN);
	put_digits(out, (unsigned)y, 4);
	put_digits(out + 5, m, 2);
	put_digits(out + 8, d, 2);
	put_digits(out + 11, (unsigned)(secs / 3600), 2);
	put_digits(out + 14, (unsigned)(secs / 60 % 60), 2);
	put_digits(out + 17, (unsigned)(secs % 60), 2);
}

/* Truncates to the two largest units; negative durations get a leading '-'. */
void duration_format(int64_t seconds, char *out, size_t outsz)
{
	uint64_t mag = seconds < 0 ? (uint64_t)0 - (uint64_t)seconds : (uint64_t)seconds;
	const char *sign = seconds < 0 ? "-" : "";
	unsigned long long d = mag / SECS_PER_DAY, h = mag / 3600 % 24, m = mag / 60 % 60;

	if (!out || outsz == 0)
		return;
	if (mag < 60)
		snprintf(out, outsz, "%s%llus", sign, (unsigned long long)mag);
	else if (mag < 3600)
		snprintf(out, outsz, "%s%llu min", sign, m);
	else if (mag < SECS_PER_DAY)
		snprintf(out, outsz, "%s%llu h %02llu min", sign, h, m);
	else
		snprintf(out, outsz, "%s%llu d %llu h", sign, d, h);
}
