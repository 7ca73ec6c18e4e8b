/* The encoding suite's handlers (conformance/bindings.py, "encoding suite"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#define U64_MAX_128 ((unsigned __int128)UINT64_MAX)

static int h_varuint_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b;
    size_t n;
    uint64_t v;
    SHAPE(in, "bytes");
    TRY(in_hex(a, in, "bytes", &b, &n));
    ec_reader r = {b, n, 0};
    TRY(ec_read_varuint(&r, &v));
    TRY(ec_finish(&r));
    out_dec_field(out, 1, "value", 0, v);
    return EC_OK;
}

static int h_varuint_encode(arena *a, const jv *in, ec_buf *out) {
    bigint v;
    uint8_t buf[9];
    (void)a;
    SHAPE(in, "value");
    TRY(in_big_int(in, "value", &v));
    /* [ENC-005] an integer is written only as a type whose range contains it */
    if (v.neg || v.huge || v.mag > U64_MAX_128) return EC_VALUE_OUT_OF_RANGE;
    size_t n = ec_varuint_encode((uint64_t)v.mag, buf);
    out_hex_field(out, 1, "bytes", buf, n);
    return EC_OK;
}

static const struct {
    const char *name;
    int size, is_signed;
} INT_TYPES[] = {{"u8", 1, 0}, {"u16", 2, 0}, {"u32", 4, 0}, {"u64", 8, 0}, {"i32", 4, 1}, {"i64", 8, 1}, {NULL, 0, 0}};

static int int_type(const jv *in, int *size, int *is_signed) {
    const jv *t = json_get(in, "type");
    if (!t || t->type != J_STR) return EC_MALFORMED_INPUT;
    for (int i = 0; INT_TYPES[i].name; i++)
        if (strlen(INT_TYPES[i].name) == t->n && memcmp(INT_TYPES[i].name, t->s, t->n) == 0) {
            *size = INT_TYPES[i].size;
            *is_signed = INT_TYPES[i].is_signed;
            return EC_OK;
        }
    return EC_MALFORMED_INPUT;
}

static int h_int_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b;
    size_t n;
    int size, sg;
    const uint8_t *p;
    SHAPE(in, "type", "bytes");
    TRY(in_hex(a, in, "bytes", &b, &n));
    TRY(int_type(in, &size, &sg));
    ec_reader r = {b, n, 0};
    TRY(ec_read(&r, (size_t)size, &p));
    TRY(ec_finish(&r));
    uint64_t v = 0;
    for (int i = size - 1; i >= 0; i--) v = (v << 8) | p[i];
    if (sg && (v >> (8 * size - 1)) & 1) {
        /* two's complement: magnitude is 2^bits - v */
        unsigned __int128 full = (unsigned __int128)1 << (8 * size);
        out_dec_field(out, 1, "value", 1, full - v);
    } else {
        out_dec_field(out, 1, "value", 0, v);
    }
    return EC_OK;
}

static int h_int_encode(arena *a, const jv *in, ec_buf *out) {
    bigint v;
    int size, sg;
    uint8_t buf[8];
    (void)a;
    SHAPE(in, "type", "value");
    TRY(in_big_int(in, "value", &v));
    TRY(int_type(in, &size, &sg));
    unsigned __int128 lim = (unsigned __int128)1 << (8 * size - (sg ? 1 : 0));
    /* [ENC-005] an integer is written only as a type whose range contains it */
    if (v.huge || (v.neg && (!sg || v.mag > lim)) || (!v.neg && v.mag > lim - 1)) return EC_VALUE_OUT_OF_RANGE;
    uint64_t raw = v.neg ? (uint64_t)(((unsigned __int128)1 << 64) - v.mag) : (uint64_t)v.mag;
    for (int i = 0; i < size; i++) buf[i] = (uint8_t)(raw >> (8 * i));
    out_hex_field(out, 1, "bytes", buf, (size_t)size);
    return EC_OK;
}

static int h_bool_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b, v;
    size_t n;
    SHAPE(in, "bytes");
    TRY(in_hex(a, in, "bytes", &b, &n));
    ec_reader r = {b, n, 0};
    TRY(ec_read_u8(&r, &v));
    TRY(ec_finish(&r));
    out_key(out, 1, "value");
    ec_buf_puts(out, v ? "true" : "false");
    return EC_OK;
}

static int h_varbytes_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b;
    size_t n, dn;
    long long max;
    const uint8_t *d;
    SHAPE(in, "bytes", "max");
    TRY(in_hex(a, in, "bytes", &b, &n));
    TRY(in_small_int(in, "max", 0, 0xFFFFFFFFLL, &max));
    ec_reader r = {b, n, 0};
    TRY(ec_read_varbytes(&r, (uint64_t)max, &d, &dn));
    TRY(ec_finish(&r));
    out_hex_field(out, 1, "data", d, dn);
    return EC_OK;
}

static int h_varbytes_encode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b, pre[9];
    size_t n;
    SHAPE(in, "data");
    TRY(in_hex(a, in, "data", &b, &n));
    size_t k = ec_varuint_encode(n, pre);
    out_key(out, 1, "bytes");
    ec_buf_putc(out, '"');
    ec_buf_hex(out, pre, k);
    ec_buf_hex(out, b, n);
    ec_buf_putc(out, '"');
    return EC_OK;
}

static int h_varstring_decode(arena *a, const jv *in, ec_buf *out) {
    static const char *const req[] = {"bytes", NULL}, *const opt[] = {"max", NULL};
    uint8_t *b;
    size_t n, dn;
    long long max = 16 * 1024 * 1024;
    const uint8_t *d;
    TRY(in_shape(in, req, opt));
    TRY(in_hex(a, in, "bytes", &b, &n));
    if (json_get(in, "max")) TRY(in_small_int(in, "max", 0, 0xFFFFFFFFLL, &max));
    ec_reader r = {b, n, 0};
    TRY(ec_read_varbytes(&r, (uint64_t)max, &d, &dn));
    TRY(ec_finish(&r));
    out_hex_field(out, 1, "data", d, dn);
    out_key(out, 0, "text");
    if (ec_utf8_valid(d, dn)) ec_buf_json_string(out, (const char *)d, dn);
    else ec_buf_puts(out, "null");
    return EC_OK;
}

static void fixed64_text(ec_buf *out, int64_t sela) {
    int neg = sela < 0;
    unsigned __int128 mag = neg ? (unsigned __int128)(-(__int128)sela) : (unsigned __int128)sela;
    unsigned __int128 whole = mag / 100000000, frac = mag % 100000000;
    ec_buf_putc(out, '"');
    out_u128(out, neg, whole);
    if (frac) {
        char t[16];
        snprintf(t, sizeof t, ".%08u", (unsigned)frac);
        ec_buf_puts(out, t);
    }
    ec_buf_putc(out, '"');
}

static int h_fixed64_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b;
    size_t n;
    uint64_t v;
    SHAPE(in, "bytes");
    TRY(in_hex(a, in, "bytes", &b, &n));
    ec_reader r = {b, n, 0};
    TRY(ec_read_u64(&r, &v));
    TRY(ec_finish(&r));
    int64_t sela = (int64_t)v;
    out_key(out, 1, "sela");
    char t[32];
    snprintf(t, sizeof t, "\"%lld\"", (long long)sela);
    ec_buf_puts(out, t);
    out_key(out, 0, "text");
    fixed64_text(out, sela);
    return EC_OK;
}

static int h_fixed64_from_string(arena *a, const jv *in, ec_buf *out) {
    const char *s;
    size_t n;
    (void)a;
    SHAPE(in, "text");
    TRY(in_text(in, "text", &s, &n));
    /* [ENC-008] an amount written as text matches -?[0-9]+(.[0-9]+)? */
    size_t i = 0, ws, we, fs = 0, fe = 0;
    int neg = n > 0 && s[0] == '-';
    i = neg ? 1 : 0;
    ws = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    we = i;
    if (we == ws) return EC_FIXED64_SYNTAX;
    if (i < n && s[i] == '.') {
        fs = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        fe = i;
        if (fe == fs) return EC_FIXED64_SYNTAX;
    }
    if (i != n) return EC_FIXED64_SYNTAX;
    /* [ENC-009] an amount written as text has at most 8 fractional digits */
    if (fe - fs > 8) return EC_FIXED64_PRECISION;
    while (ws < we - 1 && s[ws] == '0') ws++;
    /* [ENC-005] (checked on the digit count first, so that no huge number is ever built) */
    if (we - ws > 19) return EC_VALUE_OUT_OF_RANGE;
    unsigned __int128 v = 0;
    for (size_t k = ws; k < we; k++) v = v * 10 + (unsigned)(s[k] - '0');
    unsigned frac = 0;
    for (size_t k = 0; k < 8; k++) frac = frac * 10 + (fs + k < fe ? (unsigned)(s[fs + k] - '0') : 0);
    v = v * 100000000 + frac;
    /* [ENC-005] an integer is written only as a type whose range contains it */
    if ((!neg && v > (unsigned __int128)INT64_MAX) || (neg && v > (unsigned __int128)INT64_MAX + 1))
        return EC_VALUE_OUT_OF_RANGE;
    int64_t sela = neg ? (int64_t)(-(__int128)v) : (int64_t)v;
    uint8_t buf[8];
    for (int k = 0; k < 8; k++) buf[k] = (uint8_t)((uint64_t)sela >> (8 * k));
    out_dec_field(out, 1, "sela", neg && v, v);
    out_hex_field(out, 0, "bytes", buf, 8);
    return EC_OK;
}

static int h_uint256_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b, rev[32];
    size_t n;
    SHAPE(in, "bytes");
    TRY(in_hex(a, in, "bytes", &b, &n));
    /* [ENC-006] a fixed-size hash has exactly its size */
    if (n != 32) return EC_WRONG_LENGTH;
    for (int i = 0; i < 32; i++) rev[i] = b[31 - i];
    out_hex_field(out, 1, "stored", b, 32);
    out_hex_field(out, 0, "display", rev, 32);
    return EC_OK;
}

static int h_uint256_from_display(arena *a, const jv *in, ec_buf *out) {
    const char *s;
    size_t n, bn;
    uint8_t *b, rev[32];
    SHAPE(in, "display");
    TRY(in_text(in, "display", &s, &n));
    /* [ENC-007] a hash given as text is an even-length string of hexadecimal digits */
    if (hex_decode(a, s, n, &b, &bn) != EC_OK) return EC_INVALID_HEX;
    /* [ENC-006] a fixed-size hash has exactly its size */
    if (bn != 32) return EC_WRONG_LENGTH;
    for (int i = 0; i < 32; i++) rev[i] = b[31 - i];
    out_hex_field(out, 1, "stored", rev, 32);
    return EC_OK;
}

static int h_uint256_compare(arena *a, const jv *in, ec_buf *out) {
    uint8_t *x, *y;
    size_t nx, ny;
    SHAPE(in, "a", "b");
    TRY(in_hex(a, in, "a", &x, &nx));
    /* [ENC-006] a fixed-size hash has exactly its size */
    if (nx != 32) return EC_WRONG_LENGTH;
    TRY(in_hex(a, in, "b", &y, &ny));
    if (ny != 32) return EC_WRONG_LENGTH;
    int c = 0;
    for (int i = 31; i >= 0 && !c; i--)
        if (x[i] != y[i]) c = x[i] < y[i] ? -1 : 1;
    out_int_field(out, 1, "cmp", c);
    return EC_OK;
}

static int h_uint168_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b;
    size_t n;
    SHAPE(in, "bytes");
    TRY(in_hex(a, in, "bytes", &b, &n));
    /* [ENC-006] a fixed-size hash has exactly its size */
    if (n != 21) return EC_WRONG_LENGTH;
    out_int_field(out, 1, "prefix", b[0]);
    out_hex_field(out, 0, "code_hash", b + 1, 20);
    return EC_OK;
}

static int put_text(arena *a, ec_buf *out, const char *key, const uint8_t *b, size_t n, int check) {
    size_t cap = 2 * n + 16, tn;
    char *t = arena_alloc(a, cap);
    if (!t) return EC_INTERNAL_ERROR;
    TRY(check ? ec_b58check_encode(b, n, t, cap, &tn) : ec_b58_encode(b, n, t, cap, &tn));
    out_key(out, 1, key);
    ec_buf_json_string(out, t, tn);
    return EC_OK;
}

static int h_base58_encode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b;
    size_t n;
    SHAPE(in, "bytes");
    TRY(in_hex(a, in, "bytes", &b, &n));
    return put_text(a, out, "text", b, n, 0);
}

static int h_base58check_encode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b;
    size_t n;
    SHAPE(in, "payload");
    TRY(in_hex(a, in, "payload", &b, &n));
    return put_text(a, out, "text", b, n, 1);
}

static int h_base58_decode(arena *a, const jv *in, ec_buf *out) {
    const char *s;
    size_t n, bn;
    SHAPE(in, "text");
    TRY(in_text(in, "text", &s, &n));
    uint8_t *b = arena_alloc(a, n + 1);
    if (!b) return EC_INTERNAL_ERROR;
    TRY(ec_b58_decode(s, n, b, n, &bn));
    out_hex_field(out, 1, "bytes", b, bn);
    return EC_OK;
}

static int h_base58check_decode(arena *a, const jv *in, ec_buf *out) {
    const char *s;
    size_t n, bn;
    SHAPE(in, "text");
    TRY(in_text(in, "text", &s, &n));
    uint8_t *b = arena_alloc(a, n + 1);
    if (!b) return EC_INTERNAL_ERROR;
    TRY(ec_b58check_decode(s, n, b, n, &bn));
    out_hex_field(out, 1, "payload", b, bn);
    return EC_OK;
}

static int h_address_encode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b;
    size_t n;
    char addr[36];
    SHAPE(in, "program_hash");
    TRY(in_hex(a, in, "program_hash", &b, &n));
    TRY(ec_address_encode(b, n, addr));
    out_str_field(out, 1, "address", addr);
    return EC_OK;
}

static int h_address_decode(arena *a, const jv *in, ec_buf *out) {
    const char *s;
    size_t n;
    uint8_t ph[21];
    (void)a;
    SHAPE(in, "address");
    TRY(in_text(in, "address", &s, &n));
    TRY(ec_address_decode(s, n, ph));
    out_hex_field(out, 1, "program_hash", ph, 21);
    out_int_field(out, 0, "prefix", ph[0]);
    out_str_field(out, 0, "kind", ec_prefix_name(ph[0]));
    return EC_OK;
}

/* -- CBOR ------------------------------------------------------------------------------------- */

/* the one member of a typed-JSON object (a repeated key counts once, its last value wins) */
static int one_member(const jv *v, const char **tag, const jv **body) {
    int found = 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->keys[i]) {
            *tag = v->keys[i];
            *body = &v->items[i];
            found++;
        }
    return found == 1;
}

static int cbor_shape(arena *a, const jv *v, int depth) {
    const char *tag = NULL;
    const jv *body = NULL;
    if (depth > 200 || !v || v->type != J_OBJ || !one_member(v, &tag, &body)) return EC_MALFORMED_INPUT;
    if (strcmp(tag, "int") == 0) {
        bigint b;
        if (body->type != J_STR) return EC_MALFORMED_INPUT;
        return parse_decimal(body->s, body->n, &b);
    }
    if (strcmp(tag, "bytes") == 0) {
        uint8_t *b;
        size_t n;
        if (body->type != J_STR) return EC_MALFORMED_INPUT;
        return hex_decode(a, body->s, body->n, &b, &n);
    }
    if (strcmp(tag, "text") == 0 && body->type == J_STR) return EC_OK;
    if (strcmp(tag, "bool") == 0 && body->type == J_BOOL) return EC_OK;
    if (strcmp(tag, "null") == 0 && body->type == J_BOOL && body->boolean) return EC_OK;
    if (strcmp(tag, "array") == 0 && body->type == J_ARR) {
        for (size_t i = 0; i < body->n; i++) TRY(cbor_shape(a, &body->items[i], depth + 1));
        return EC_OK;
    }
    if (strcmp(tag, "map") == 0 && body->type == J_ARR) {
        for (size_t i = 0; i < body->n; i++)
            if (body->items[i].type != J_ARR || body->items[i].n != 2) return EC_MALFORMED_INPUT;
        for (size_t i = 0; i < body->n; i++) {
            TRY(cbor_shape(a, &body->items[i].items[0], depth + 1));
            TRY(cbor_shape(a, &body->items[i].items[1], depth + 1));
        }
        return EC_OK;
    }
    return EC_MALFORMED_INPUT;
}

static void cbor_head(ec_buf *o, int major, uint64_t arg) {
    uint8_t m = (uint8_t)(major << 5);
    if (arg < 24) {
        ec_buf_putc(o, m | (uint8_t)arg);
        return;
    }
    int size = arg < (1ULL << 8) ? 1 : arg < (1ULL << 16) ? 2 : arg < (1ULL << 32) ? 4 : 8;
    ec_buf_putc(o, m | (uint8_t)(size == 1 ? 24 : size == 2 ? 25 : size == 4 ? 26 : 27));
    for (int i = size - 1; i >= 0; i--) ec_buf_putc(o, (uint8_t)(arg >> (8 * i)));
}

typedef struct {
    ec_buf k, v;
} pair_buf;

static int pair_order(const void *x, const void *y) {
    const ec_buf *a = &((const pair_buf *)x)->k, *b = &((const pair_buf *)y)->k;
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->p, b->p, m);
    return c ? c : (a->len < b->len ? -1 : a->len > b->len);
}

static int cbor_enc(arena *a, const jv *v, int depth, ec_buf *o) {
    const char *tag = NULL;
    const jv *body = NULL;
    one_member(v, &tag, &body); /* cbor_shape has checked there is exactly one */
    int container = strcmp(tag, "array") == 0 || strcmp(tag, "map") == 0;
    /* [CBOR-008] arrays and maps nest at most 64 deep */
    if (container && depth > 64) return EC_CBOR_TOO_DEEP;
    if (strcmp(tag, "null") == 0) {
        ec_buf_putc(o, 0xF6);
        return EC_OK;
    }
    if (strcmp(tag, "bool") == 0) {
        ec_buf_putc(o, body->boolean ? 0xF5 : 0xF4);
        return EC_OK;
    }
    if (strcmp(tag, "int") == 0) {
        bigint b;
        parse_decimal(body->s, body->n, &b);
        /* [ENC-005] CBOR integers are in [-2^64, 2^64-1] */
        if (b.huge || b.mag > ((unsigned __int128)1 << 64) || (!b.neg && b.mag > U64_MAX_128))
            return EC_VALUE_OUT_OF_RANGE;
        if (b.neg) cbor_head(o, 1, (uint64_t)(b.mag - 1));
        else cbor_head(o, 0, (uint64_t)b.mag);
        return EC_OK;
    }
    if (strcmp(tag, "bytes") == 0) {
        uint8_t *b;
        size_t n;
        hex_decode(a, body->s, body->n, &b, &n);
        cbor_head(o, 2, n);
        ec_buf_put(o, b, n);
        return EC_OK;
    }
    if (strcmp(tag, "text") == 0) {
        /* [CBOR-006] a text string is valid UTF-8 (a lone surrogate has no UTF-8 form) */
        if (body->lone) return EC_CBOR_INVALID_UTF8;
        cbor_head(o, 3, body->n);
        ec_buf_put(o, body->s, body->n);
        return EC_OK;
    }
    if (strcmp(tag, "array") == 0) {
        cbor_head(o, 4, body->n);
        for (size_t i = 0; i < body->n; i++) TRY(cbor_enc(a, &body->items[i], depth + 1, o));
        return EC_OK;
    }
    /* map */
    size_t n = body->n;
    pair_buf *pairs = calloc(n ? n : 1, sizeof *pairs);
    if (!pairs) return EC_INTERNAL_ERROR;
    int rc = EC_OK;
    for (size_t i = 0; i < n && rc == EC_OK; i++) {
        const jv *key = &body->items[i].items[0], *kbody = NULL;
        const char *kt = "";
        one_member(key, &kt, &kbody);
        /* [CBOR-005] map keys are integers, byte strings or text strings */
        if (strcmp(kt, "int") != 0 && strcmp(kt, "text") != 0 && strcmp(kt, "bytes") != 0) rc = EC_CBOR_UNSUPPORTED;
        if (rc == EC_OK) rc = cbor_enc(a, key, depth + 1, &pairs[i].k);
        if (rc == EC_OK) rc = cbor_enc(a, &body->items[i].items[1], depth + 1, &pairs[i].v);
    }
    if (rc == EC_OK) {
        qsort(pairs, n, sizeof *pairs, pair_order);
        for (size_t i = 1; i < n && rc == EC_OK; i++)
            /* [CBOR-004] a map has each key once */
            if (pair_order(&pairs[i - 1], &pairs[i]) == 0) rc = EC_CBOR_DUPLICATE_KEY;
    }
    if (rc == EC_OK) {
        cbor_head(o, 5, n);
        for (size_t i = 0; i < n; i++) {
            ec_buf_put(o, pairs[i].k.p, pairs[i].k.len);
            ec_buf_put(o, pairs[i].v.p, pairs[i].v.len);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(pairs[i].k.p);
        free(pairs[i].v.p);
    }
    free(pairs);
    return rc;
}

static int h_cbor_encode(arena *a, const jv *in, ec_buf *out) {
    SHAPE(in, "value");
    const jv *v = json_get(in, "value");
    TRY(cbor_shape(a, v, 0));
    ec_buf o = {0};
    int rc = cbor_enc(a, v, 1, &o);
    if (rc == EC_OK) out_hex_field(out, 1, "bytes", o.p, o.len);
    free(o.p);
    return rc;
}

static int h_cbor_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b;
    size_t n, jn;
    char *json;
    SHAPE(in, "bytes");
    TRY(in_hex(a, in, "bytes", &b, &n));
    TRY(ec_cbor_decode_json(b, n, &json, &jn));
    out_key(out, 1, "value");
    ec_buf_put(out, json, jn);
    ec_free(json);
    return EC_OK;
}

const handler_entry encoding_handlers[] = {
    {"encoding/address_decode", h_address_decode},
    {"encoding/address_encode", h_address_encode},
    {"encoding/base58_decode", h_base58_decode},
    {"encoding/base58_encode", h_base58_encode},
    {"encoding/base58check_decode", h_base58check_decode},
    {"encoding/base58check_encode", h_base58check_encode},
    {"encoding/bool_decode", h_bool_decode},
    {"encoding/cbor_decode", h_cbor_decode},
    {"encoding/cbor_encode", h_cbor_encode},
    {"encoding/fixed64_decode", h_fixed64_decode},
    {"encoding/fixed64_from_string", h_fixed64_from_string},
    {"encoding/int_decode", h_int_decode},
    {"encoding/int_encode", h_int_encode},
    {"encoding/uint168_decode", h_uint168_decode},
    {"encoding/uint256_compare", h_uint256_compare},
    {"encoding/uint256_decode", h_uint256_decode},
    {"encoding/uint256_from_display", h_uint256_from_display},
    {"encoding/varbytes_decode", h_varbytes_decode},
    {"encoding/varbytes_encode", h_varbytes_encode},
    {"encoding/varstring_decode", h_varstring_decode},
    {"encoding/varuint_decode", h_varuint_decode},
    {"encoding/varuint_encode", h_varuint_encode},
    {NULL, NULL},
};
