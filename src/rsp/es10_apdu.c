/*
 * es10_apdu.c - the APDU layer of the ES10 client: logical channel, SELECT ISD-R, STORE DATA
 * chaining with its block size (extended length when the ATR advertises it, falling back
 * on 6700), GET RESPONSE (61xx) and resend with Le (6Cxx).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "esimctl/atr.h"
#include "esimctl/der.h"
#include "esimctl/es10.h"
#include "esimctl/ids.h"
#include "rsp/es10_internal.h"

/* ------------------------------------------------------------------------------------ */
/* APDU layer.                                                                         */

static uint8_t cla_proprietary(int ch)
{
	return (uint8_t)(ch < 4 ? 0x80 | ch : 0xC0 | (ch - 4));
}

static uint8_t cla_interindustry(int ch)
{
	return (uint8_t)(ch < 4 ? ch : 0x40 | (ch - 4));
}

struct apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;               /* 0..255; up to ES10_BLOCK_EXT in extended form */
	int le;                  /* -1: none; 0..255 (0 meaning 256) */
};

/* The longest C-APDU sent: extended length, Lc 3 bytes and Le 2 (ISO 7816-4 §5.1). */
#define APDU_TX_MAX (4 + 3 + ES10_BLOCK_EXT + 2)

/*
 * Short form when the data fits Lc of one byte, else extended (Lc 00 xx xx, Le xx xx).  Le
 * asks for 256 bytes at most either way, as much as APDU_RX_MAX holds; longer responses
 * come through GET RESPONSE.
 */
static size_t apdu_encode(const struct apdu *a, uint8_t out[APDU_TX_MAX])
{
	size_t n = 0;
	int ext = a->lc > 255;

	out[n++] = a->cla;
	out[n++] = a->ins;
	out[n++] = a->p1;
	out[n++] = a->p2;
	if (ext) {
		out[n++] = 0x00;
		out[n++] = (uint8_t)(a->lc >> 8);
	}
	if (a->lc) {
		out[n++] = (uint8_t)a->lc;
		memcpy(out + n, a->data, a->lc);
		n += a->lc;
	}
	if (a->le >= 0) {
		if (ext)
			out[n++] = a->le ? 0x00 : 0x01;   /* Ne 1..255 or 256 */
		out[n++] = (uint8_t)a->le;
	}
	return n;
}

/*
 * One C-APDU through the transport; rx gets the R-APDU (>= 2 bytes).  0, -1, or
 * APDU_TOO_LONG when the transport refused it for its length.
 */
static int raw_transmit(struct es10_ctx *ctx, const uint8_t *tx, size_t txlen, uint8_t *rx,
			size_t *rxlen, struct esim_err *err)
{
	int rc;

	*rxlen = APDU_RX_MAX;
	esim_err_clear(err);
	rc = ctx->t->transmit(ctx->t->priv, tx, txlen, rx, rxlen, err);
	if (rc < 0) {
		if (err && err->status == ESIM_OK)
			esim_fail(err, ESIM_E_NOREADER, "eUICC transport failed");
		if (rc == APDU_TOO_LONG) {
			ctx->apdus_refused++;
			return APDU_TOO_LONG;
		}
		return -1;
	}
	if (*rxlen < 2 || *rxlen > APDU_RX_MAX)
		return esim_fail(err, ESIM_E_EUICC, "eUICC transport returned a %zu-byte response",
				 *rxlen);
	ctx->apdus++;
	ctx->apdu_tx_bytes += txlen;
	ctx->apdu_rx_bytes += *rxlen;
	return 0;
}

/*
 * Send a, following 61xx with GET RESPONSE (class gr_cla) and 6Cxx with a resend, and
 * append all response data to out.  *sw is the final status word.  The one place where
 * 61xx and 6Cxx are handled, for every backend.  Returns as raw_transmit(); *firstp (if
 * not NULL) is set to 1 when the result is that of a itself, 0 when of a GET RESPONSE or
 * a resend.
 */
static int apdu_exchange_first(struct es10_ctx *ctx, const struct apdu *a, uint8_t gr_cla,
			       struct buf *out, unsigned *sw, int *firstp, struct esim_err *err)
{
	struct apdu cur = *a;
	uint8_t tx[APDU_TX_MAX], rx[APDU_RX_MAX];
	size_t txlen, rxlen, start = out->len;
	unsigned rounds = 0, resends = 0;
	int rc;

	for (;;) {
		if (firstp)
			*firstp = rounds == 0 && resends == 0;
		txlen = apdu_encode(&cur, tx);
		if ((rc = raw_transmit(ctx, tx, txlen, rx, &rxlen, err)) < 0)
			return rc;
		*sw = (unsigned)rx[rxlen - 2] << 8 | rx[rxlen - 1];
		if (rx[rxlen - 2] == 0x6C) {
			/* Wrong Le (T=0): same command again with Le as the card says. */
			if (++resends > RESEND_MAX) {
				esim_fail(err, ESIM_E_EUICC, "eUICC kept answering 6Cxx (wrong Le)");
				if (err)
					snprintf(err->detail, sizeof(err->detail), "SW %04X", *sw);
				return -1;
			}
			out->len = start;
			out->buf[out->len] = '\0';
			cur.le = rx[rxlen - 1];
			continue;
		}
		if (out->len > ES10_RESPONSE_MAX || rxlen - 2 > ES10_RESPONSE_MAX - out->len)
			return esim_fail(err, ESIM_E_EUICC, "eUICC response longer than %u bytes",
					 ES10_RESPONSE_MAX);
		buf_add(out, rx, rxlen - 2);
		if (rx[rxlen - 2] != 0x61)
			return 0;
		if (++rounds > GET_RESPONSE_MAX)
			return esim_fail(err, ESIM_E_EUICC, "eUICC kept answering 61xx");
		cur.cla = gr_cla;
		cur.ins = 0xC0;
		cur.p1 = 0;
		cur.p2 = 0;
		cur.data = NULL;
		cur.lc = 0;
		cur.le = rx[rxlen - 1];
		resends = 0;
	}
}

static int apdu_exchange(struct es10_ctx *ctx, const struct apdu *a, uint8_t gr_cla,
			 struct buf *out, unsigned *sw, struct esim_err *err)
{
	return apdu_exchange_first(ctx, a, gr_cla, out, sw, NULL, err);
}

int es10_check_open(struct es10_ctx *ctx, struct esim_err *err)
{
	if (!ctx || !ctx->t || ctx->channel < 0)
		return esim_fail(err, ESIM_E_USAGE, "no eUICC session is open");
	return 0;
}

/* Block sizes to fall back to, in short APDUs. */
static const size_t block_ladder[] = { ES10_BLOCK_SHORT, 120, 64, 32 };

/* The session's first block size: ctx->mss, or what the card's ATR allows. */
static size_t block_first(const struct es10_ctx *ctx)
{
	struct atr_info ai;

	if (ctx->mss >= 1 && ctx->mss <= ES10_BLOCK_SHORT)
		return ctx->mss;
	if (ctx->t->atrlen && atr_parse(ctx->t->atr, ctx->t->atrlen, &ai) == 0 && ai.ext_length)
		return ES10_BLOCK_EXT;
	return ES10_BLOCK_SHORT;
}

/*
 * The block of n bytes went out as a (rc, sw): was it refused for its length?  6700 (wrong
 * length, ISO 7816-4 §5.6) or a transport's APDU_TOO_LONG; for an extended-length APDU
 * also 6D00 / 6E00 (a card reading Lc 00 as something else) and a transport error that
 * is no lost card.  Not when a block as long went through before: then the length is not
 * what the card objects to.
 */
static int refused_for_length(const struct es10_ctx *ctx, size_t n, int rc, unsigned sw,
			      const struct esim_err *err)
{
	int ext = n > ES10_BLOCK_SHORT;

	if (n <= ctx->block_ok)
		return 0;
	if (rc == APDU_TOO_LONG)
		return 1;
	if (rc < 0)
		return ext && err && err->status == ESIM_E_EUICC;
	return sw == 0x6700 || (ext && (sw == 0x6D00 || sw == 0x6E00));
}

/* The next block size down for a refused block of n bytes; 0 when there is none. */
static size_t block_below(size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(block_ladder) / sizeof(block_ladder[0]); i++)
		if (block_ladder[i] < n)
			return block_ladder[i];
	return 0;
}

/*
 * One ES10 request as a STORE DATA chain (SGP.22 §5.7.2, GlobalPlatform STORE DATA: P2 the
 * block number from 00); resp (reset first) gets the answer.  When a block is refused for
 * its length, the whole chain starts again from block 00 in smaller blocks: the card has
 * not run the function (it runs on the last block, and a refused block is not taken), a
 * new P2 00 makes it drop the blocks it holds, and the numbering stays that of one block
 * size throughout.  The size that worked stays for the rest of the session.
 */
int es10_store_data(struct es10_ctx *ctx, const uint8_t *req, size_t reqlen, struct buf *resp,
		      struct esim_err *err)
{
	const char *name = es10_fn_name(req, reqlen);
	size_t blocks, i;
	unsigned sw = 0;
	int rc, first;

	buf_reset(resp);
	if (es10_check_open(ctx, err) < 0)
		return -1;
	if (reqlen == 0)
		return esim_fail(err, ESIM_E_USAGE, "empty ES10 request");
	if (!ctx->block)
		ctx->block = block_first(ctx);
restart:
	blocks = (reqlen + ctx->block - 1) / ctx->block;
	if (blocks > 256)
		return esim_fail(err, ESIM_E_USAGE, "%s request of %zu bytes is too long for "
				 "STORE DATA blocks of %zu bytes", name, reqlen, ctx->block);
	for (i = 0; i < blocks; i++) {
		int last = i + 1 == blocks;
		size_t n = last ? reqlen - i * ctx->block : ctx->block, below;
		struct apdu a = {
			.cla = cla_proprietary(ctx->channel),
			.ins = 0xE2,
			.p1 = last ? 0x91 : 0x11,
			.p2 = (uint8_t)i,
			.data = req + i * ctx->block,
			.lc = n,
			.le = last ? 0 : -1,
		};

		/*
		 * GET RESPONSE after STORE DATA goes in the proprietary class (80|ch), as
		 * lpac and euicc-go send it; after SELECT es10_open() uses the ISO class.
		 * The software eUICC accepts both (see soft.c).
		 */
		rc = apdu_exchange_first(ctx, &a, cla_proprietary(ctx->channel), resp, &sw, &first,
					 err);
		if ((rc < 0 || sw != SW_OK) && first && refused_for_length(ctx, n, rc, sw, err) &&
		    (below = block_below(n)) != 0) {
			ctx->block = below;
			ctx->fallbacks++;
			buf_reset(resp);
			goto restart;
		}
		if (rc < 0)
			return -1;
		if (sw != SW_OK)
			return es10_sw_fail(err, name, sw);
		if (n > ctx->block_ok)
			ctx->block_ok = n;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Session.                                                                            */

void es10_ctx_init(struct es10_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->channel = -1;
	ctx->last_result = -1;
}

static const uint8_t terminal_capability[] = {
	0xA9, 0x08, 0x81, 0x00, 0x82, 0x01, 0x01, 0x83, 0x01, 0x07,
};

int es10_open(struct es10_ctx *ctx, struct apdu_transport *t, struct esim_err *err)
{
	struct buf data = BUF_INIT;
	unsigned sw;
	int ch;

	if (!ctx || !t || !t->transmit)
		return esim_fail(err, ESIM_E_USAGE, "es10_open: no transport");
	ctx->t = NULL;
	ctx->channel = -1;
	ctx->own_channel = 0;
	ctx->last_result = -1;
	ctx->block = 0;
	ctx->block_ok = 0;
	ctx->fallbacks = 0;
	if (t->open && t->open(t->priv, err) < 0) {
		if (err && err->status == ESIM_OK)
			esim_fail(err, ESIM_E_NOREADER, "cannot connect to the eUICC");
		if (t->close)
			t->close(t->priv);
		return -1;
	}
	ctx->t = t;
	ctx->channel = 0;

	if (ctx->terminal_capability) {
		/* Some eUICCs want it (lpac sends it); an SW error is not a reason to stop. */
		struct apdu a = { 0x80, 0xAA, 0x00, 0x00, terminal_capability,
				  sizeof(terminal_capability), -1 };

		if (apdu_exchange(ctx, &a, 0x80, &data, &sw, err) < 0)
			goto fail;
		buf_reset(&data);
	}

	if (!ctx->basic_channel && !t->basic_channel && t->open_channel) {
		/* The backend opens the channel and selects the ISD-R in one step (AT+CCHO). */
		if (t->open_channel(t->priv, es10_isdr_aid, sizeof(es10_isdr_aid), &ch, err) < 0) {
			if (err && err->status == ESIM_OK)
				esim_fail(err, ESIM_E_EUICC, "cannot open a logical channel to the ISD-R");
			goto fail;
		}
		if (ch < 1 || ch > ES10_CHANNEL_MAX) {
			ctx->channel = ch;
			ctx->own_channel = 1;
			esim_fail(err, ESIM_E_EUICC, "eUICC opened an invalid logical channel (%d)", ch);
			goto fail;
		}
		ctx->channel = ch;
		ctx->own_channel = 1;
		buf_release(&data);
		return 0;
	}
	if (!ctx->basic_channel && !t->basic_channel) {
		struct apdu a = { 0x00, 0x70, 0x00, 0x00, NULL, 0, 1 };

		if (apdu_exchange(ctx, &a, 0x00, &data, &sw, err) < 0)
			goto fail;
		if (sw != SW_OK) {
			es10_sw_fail(err, "MANAGE CHANNEL (open a logical channel)", sw);
			goto fail;
		}
		ch = data.len == 1 ? (uint8_t)data.buf[0] : -1;
		if (ch < 1 || ch > ES10_CHANNEL_MAX) {
			esim_fail(err, ESIM_E_EUICC, "eUICC opened an invalid logical channel");
			goto fail;
		}
		ctx->channel = ch;
		buf_reset(&data);
	}

	{
		struct apdu a = { cla_interindustry(ctx->channel), 0xA4, 0x04, 0x00, es10_isdr_aid,
				  sizeof(es10_isdr_aid), -1 };

		if (apdu_exchange(ctx, &a, cla_interindustry(ctx->channel), &data, &sw, err) < 0)
			goto fail;
		if (sw != SW_OK) {
			es10_sw_fail(err, "SELECT ISD-R", sw);
			if (sw == 0x6A82)
				esim_hint(err, "the card has no ISD-R: is it an eUICC?");
			goto fail;
		}
	}
	buf_release(&data);
	return 0;

fail:
	buf_release(&data);
	es10_close(ctx);
	return -1;
}

void es10_close(struct es10_ctx *ctx)
{
	struct apdu_transport *t;

	if (!ctx || !ctx->t)
		return;
	t = ctx->t;
	if (ctx->own_channel) {
		if (t->close_channel)
			t->close_channel(t->priv, ctx->channel);
	} else if (ctx->channel > 0) {
		struct apdu a = { 0x00, 0x70, 0x80, (uint8_t)ctx->channel, NULL, 0, 0 };
		struct buf data = BUF_INIT;
		struct esim_err ignored;
		unsigned sw;

		apdu_exchange(ctx, &a, 0x00, &data, &sw, &ignored);
		buf_release(&data);
	}
	ctx->t = NULL;
	ctx->channel = -1;
	ctx->own_channel = 0;
	if (t->close)
		t->close(t->priv);
}

int es10_transmit(struct es10_ctx *ctx, const uint8_t *req, size_t reqlen, struct buf *resp,
		  struct esim_err *err)
{
	return es10_store_data(ctx, req, reqlen, resp, err);
}

