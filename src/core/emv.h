/* EMVCo merchant-presented QR payloads (EMV QRCPS-MPM), pure: build and parse
 * (DESIGN.md section 3; issue "Payment codes").
 *
 * A payload is a run of fields, each a 2-digit tag, a 2-digit length (01..99) and that many
 * characters. hongbao's payloads hold, in this order:
 *   00 "01" (format), 01 "11" static / "12" dynamic, one merchant-account template (26..51)
 *   whose sub-field 00 is the platform GUID and 01 the sealed token, 52 MCC (4 digits),
 *   53 ISO 4217 numeric currency (156 CNY, 344 HKD), 54 amount (dynamic codes; "18.88"),
 *   58 country (2 letters), 59 merchant name (1..25), 60 city (1..15), optionally 62 with
 *   sub-field 05 (reference label), and 63, the CRC-16/CCITT-FALSE of everything before its
 *   value, "6304" included, as 4 upper-case hex digits.
 * The parser reads any well-formed payload: other templates and unknown tags are skipped, and
 * it refuses bad lengths, duplicate tags, missing mandatory tags, a missing or wrong CRC, a
 * format field that is not first or a CRC that is not last. */
#ifndef HB_CORE_EMV_H
#define HB_CORE_EMV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/currency.h"
#include "core/error.h"
#include "core/invariant.h"

#define EMV_VALUE_MAX 99
#define EMV_PAYLOAD_MAX 512

typedef struct emv_payload {
    bool dynamic;                      /* 01: "12"; static "11" */
    int template_tag;                  /* 26..51; build uses 26 when 0 */
    char guid[EMV_VALUE_MAX + 1];      /* template sub-field 00 */
    char token[EMV_VALUE_MAX + 1];     /* template sub-field 01 */
    char mcc[5];                       /* 52 */
    currency currency;                 /* 53 */
    bool has_amount;                   /* 54 present */
    int64_t amount_fen;                /* 54 */
    char country[3];                   /* 58 */
    char merchant_name[26];            /* 59 */
    char city[16];                     /* 60 */
    char reference[26];                /* 62 sub-field 05; "" = no 62 */
} emv_payload;

/* What a field may hold: digits, capital letters, or printable ASCII. */
typedef enum emv_charset { EMV_DIGITS, EMV_ALPHA, EMV_TEXT } emv_charset;
/* v is min..max characters of the class. */
bool emv_value_ok(const char *v, size_t min, size_t max, emv_charset cs);

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor. */
uint16_t emv_crc16(const void *data, size_t len);

/* ISO 4217 numeric code of a currency (156, 344), 0 for none; and back. */
int emv_currency_numeric(currency c);
currency emv_currency_from_numeric(int code);

/* Build p into out (NUL-terminated; *len receives the length). INVALID_ARGUMENT, with a
 * reason in why, for a value that is empty where required, too long, or not what its tag
 * allows (digits, letters, printable ASCII), or an out of range template tag. */
hb_err emv_build(const emv_payload *p, char *out, size_t size, size_t *len, char *why,
                 size_t why_size) WARN_UNUSED;

/* Parse len characters; the merchant template read is the first whose sub-field 00 equals
 * guid. INVALID_CODE with a reason in why for anything malformed (see above), or when no
 * template carries guid. */
hb_err emv_parse(const char *text, size_t len, const char *guid, emv_payload *out, char *why,
                 size_t why_size) WARN_UNUSED;

#endif
