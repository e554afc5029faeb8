/*
 * es10_internal.h - what the files of the ES10 client share (private to src/rsp).
 */
#ifndef ESIMCTL_ES10_INTERNAL_H
#define ESIMCTL_ES10_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "esimctl/buf.h"
#include "esimctl/der.h"
#include "esimctl/es10.h"

/* ES10 request / response tags (SGP.22 §5.7). */
#define TAG_EUICC_INFO1 0xBF20
#define TAG_PREPARE_DOWNLOAD 0xBF21
#define TAG_EUICC_INFO2 0xBF22
#define TAG_INIT_SECURE_CHANNEL 0xBF23
#define TAG_PIR_DATA 0xBF27
#define TAG_LIST_NOTIFICATION 0xBF28
#define TAG_SET_NICKNAME 0xBF29
#define TAG_RETRIEVE_NOTIFICATIONS 0xBF2B
#define TAG_PROFILES_INFO 0xBF2D
#define TAG_CHALLENGE 0xBF2E
#define TAG_NOTIFICATION_METADATA 0xBF2F
#define TAG_REMOVE_NOTIFICATION 0xBF30
#define TAG_ENABLE 0xBF31
#define TAG_DISABLE 0xBF32
#define TAG_DELETE 0xBF33
#define TAG_MEMORY_RESET 0xBF34
#define TAG_BPP 0xBF36
#define TAG_PIR 0xBF37
#define TAG_AUTH_SERVER 0xBF38
#define TAG_CONFIGURED_ADDRESSES 0xBF3C
#define TAG_EID 0xBF3E
#define TAG_SET_DEFAULT_DP 0xBF3F
#define TAG_CANCEL_SESSION 0xBF41
#define TAG_RAT 0xBF43
#define TAG_SIGNATURE 0x5F37
#define TAG_PROFILE_STATE 0x9F70
#define TAG_PROFILE_INFO 0xE3
#define SW_OK 0x9000
#define GET_RESPONSE_MAX 4096   /* 61xx rounds per command, whatever the data */
#define RESEND_MAX 3            /* 6Cxx rounds per command */

const char *es10_fn_name(const uint8_t *req, size_t len);
int es10_malformed(struct esim_err *err, const char *fn, const char *what);
int es10_smdp_malformed(struct esim_err *err, const char *what);
int es10_sw_fail(struct esim_err *err, const char *what, unsigned sw);
int es10_code_fail(struct esim_err *err, enum esim_status status, enum es10_code_kind kind,
		     const char *fn, const char *subject, int code);
int es10_parse_top(const uint8_t *p, size_t len, uint32_t tag, struct der_node *top);
int es10_resp_top(const struct buf *resp, uint32_t tag, struct der_node *top);
int es10_check_children(const struct der_node *parent);
int es10_only_child(const struct der_node *parent, struct der_node *out);
int es10_get_int(const struct der_node *n, int *out);
int es10_get_bits(const struct der_node *n, unsigned *bits);
void es10_put_bits(struct buf *b, uint32_t tag, unsigned bits);
int es10_get_address(const struct der_node *n, char out[ES10_ADDRESS_MAX + 1]);
char *es10_dup_text(const struct der_node *n);
int es10_get_iccid(const struct der_node *n, char out[21]);
int es10_iccid_arg(const char *iccid, uint8_t bcd[10], struct esim_err *err);
int es10_smdp_tlv(const struct buf *b, uint32_t tag, const char *what, struct esim_err *err);
int es10_get_result(struct es10_ctx *ctx, const struct buf *resp, uint32_t tag, const char *fn,
		      int *code, struct esim_err *err);
int es10_command(struct es10_ctx *ctx, const struct buf *req, struct buf *resp, uint32_t tag,
		   struct der_node *top, struct esim_err *err);
int es10_simple_get(struct es10_ctx *ctx, uint32_t tag, struct buf *resp, struct der_node *top,
		      struct esim_err *err);
int es10_check_open(struct es10_ctx *ctx, struct esim_err *err);
int es10_store_data(struct es10_ctx *ctx, const uint8_t *req, size_t reqlen, struct buf *resp,
		      struct esim_err *err);
int es10_parse_metadata(const struct der_node *md, struct es10_notification *out);

#endif
