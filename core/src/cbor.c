/* Deterministic CBOR decoding (CBOR-001..008) straight to typed JSON text, plus the byte buffer
 * and UTF-8 helpers the rest of the core shares. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- buffer ----------------------------------------------------------------------------------- */

static void grow(ec_buf *b, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

void ec_buf_put(ec_buf *b, const void *data, size_t n) {
    grow(b, n);
    if (b->oom) return;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

void ec_buf_putc(ec_buf *b, uint8_t c) { ec_buf_put(b, &c, 1); }

void ec_buf_puts(ec_buf *b, const char *s) { ec_buf_put(b, s, strlen(s)); }

void ec_buf_hex(ec_buf *b, const uint8_t *data, size_t n) {
    static const char H[] = "0123456789abcdef";
    grow(b, 2 * n);
    if (b->oom) return;
    for (size_t i = 0; i < n; i++) {
        b->p[b->len++] = (uint8_t)H[data[i] >> 4];
        b->p[b->len++] = (uint8_t)H[data[i] & 15];
    }
    b->p[b->len] = 0;
}

/* A JSON string of UTF-8 bytes: quotes, backslashes and control characters escaped. */
void ec_buf_json_string(ec_buf *b, const char *s, size_t n) {
    static const char H[] = "0123456789abcdef";
    ec_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            ec_buf_putc(b, '\\');
            ec_buf_putc(b, c);
        } else if (c < 0x20) {
            char e[7] = {'\\', 'u', '0', '0', H[c >> 4], H[c & 15], 0};
            ec_buf_puts(b, e);
        } else {
            ec_buf_putc(b, c);
        }
    }
    ec_buf_putc(b, '"');
}

int ec_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) need = 1, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0) need = 2, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0) need = 3, cp = c & 0x07, min = 0x10000;
        else return 0;
        if (need > n - i - 1) return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += need + 1;
    }
    return 1;
}

/* -- CBOR decoding ---------------------------------------------------------------------------- */

#define CBOR_MAX_DEPTH 64

static int read_arg(ec_reader *r, int ai, uint64_t *arg) {
    if (ai < 24) {
        *arg = (uint64_t)ai;
        return EC_OK;
    }
    size_t size = (size_t)1 << (ai - 24);
    const uint8_t *p;
    int rc = ec_read(r, size, &p);
    if (rc) return rc;
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) v = (v << 8) | p[i];
    uint64_t minimum = size == 1 ? 24 : (uint64_t)1 << (8 * size / 2);
    /* [CBOR-001] every integer, length and count is written in the shortest form */
    if (v < minimum) return EC_CBOR_NON_SHORTEST;
    *arg = v;
    return EC_OK;
}

/* kind of the item just decoded (for the map-key check) */
enum { K_INT, K_BYTES, K_TEXT, K_OTHER };

static int decode_item(ec_reader *r, int depth, ec_buf *out, int *kind) {
    uint8_t initial;
    int rc = ec_read_u8(r, &initial);
    if (rc) return rc;
    int major = initial >> 5, ai = initial & 0x1F;
    char num[48];
    *kind = K_OTHER;
    /* [CBOR-007] no reserved additional information (28, 29, 30) */
    if (ai >= 28 && ai <= 30) return EC_CBOR_MALFORMED;
    if (ai == 31) {
        /* [CBOR-002] no item has indefinite length */
        if (major >= 2 && major <= 5) return EC_CBOR_INDEFINITE_LENGTH;
        /* [CBOR-007] a break or ai 31 on an integer or tag is malformed here */
        return EC_CBOR_MALFORMED;
    }
    if (major == 7) {
        if (ai == 20 || ai == 21) {
            ec_buf_puts(out, ai == 21 ? "{\"bool\":true}" : "{\"bool\":false}");
            return EC_OK;
        }
        if (ai == 22) {
            ec_buf_puts(out, "{\"null\":true}");
            return EC_OK;
        }
        /* [CBOR-005] floats, undefined and other simple values are outside the profile */
        return EC_CBOR_UNSUPPORTED;
    }
    /* [CBOR-005] tags are outside the profile */
    if (major == 6) return EC_CBOR_UNSUPPORTED;
    uint64_t arg;
    if ((rc = read_arg(r, ai, &arg))) return rc;
    const uint8_t *p;
    switch (major) {
    case 0:
        snprintf(num, sizeof num, "{\"int\":\"%llu\"}", (unsigned long long)arg);
        ec_buf_puts(out, num);
        *kind = K_INT;
        return EC_OK;
    case 1:
        /* -1 - arg, printed without overflow: arg + 1 may be 2^64 */
        if (arg == UINT64_MAX) snprintf(num, sizeof num, "{\"int\":\"-18446744073709551616\"}");
        else snprintf(num, sizeof num, "{\"int\":\"-%llu\"}", (unsigned long long)arg + 1);
        ec_buf_puts(out, num);
        *kind = K_INT;
        return EC_OK;
    case 2:
        if (arg > r->len - r->pos) return EC_TRUNCATED;
        ec_read(r, (size_t)arg, &p);
        ec_buf_puts(out, "{\"bytes\":\"");
        ec_buf_hex(out, p, (size_t)arg);
        ec_buf_puts(out, "\"}");
        *kind = K_BYTES;
        return EC_OK;
    case 3:
        if (arg > r->len - r->pos) return EC_TRUNCATED;
        ec_read(r, (size_t)arg, &p);
        /* [CBOR-006] a text string is valid UTF-8 */
        if (!ec_utf8_valid(p, (size_t)arg)) return EC_CBOR_INVALID_UTF8;
        ec_buf_puts(out, "{\"text\":");
        ec_buf_json_string(out, (const char *)p, (size_t)arg);
        ec_buf_putc(out, '}');
        *kind = K_TEXT;
        return EC_OK;
    default:
        break;
    }
    /* [CBOR-008] arrays and maps nest at most 64 deep */
    if (depth > CBOR_MAX_DEPTH) return EC_CBOR_TOO_DEEP;
    int k;
    if (major == 4) {
        ec_buf_puts(out, "{\"array\":[");
        for (uint64_t i = 0; i < arg; i++) {
            if (i) ec_buf_putc(out, ',');
            if ((rc = decode_item(r, depth + 1, out, &k))) return rc;
        }
        ec_buf_puts(out, "]}");
        return EC_OK;
    }
    ec_buf_puts(out, "{\"map\":[");
    const uint8_t *prev = NULL;
    size_t prev_len = 0;
    for (uint64_t i = 0; i < arg; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '[');
        size_t start = r->pos;
        if ((rc = decode_item(r, depth + 1, out, &k))) return rc;
        const uint8_t *key = r->data + start;
        size_t key_len = r->pos - start;
        /* [CBOR-005] map keys are integers, byte strings or text strings */
        if (k == K_OTHER) return EC_CBOR_UNSUPPORTED;
        if (prev) {
            size_t m = key_len < prev_len ? key_len : prev_len;
            int c = memcmp(key, prev, m);
            /* [CBOR-004] a map has each key once */
            if (c == 0 && key_len == prev_len) return EC_CBOR_DUPLICATE_KEY;
            /* [CBOR-003] keys in bytewise lexicographic order of their encodings */
            if (c < 0 || (c == 0 && key_len < prev_len)) return EC_CBOR_UNSORTED_MAP;
        }
        prev = key;
        prev_len = key_len;
        ec_buf_putc(out, ',');
        if ((rc = decode_item(r, depth + 1, out, &k))) return rc;
        ec_buf_putc(out, ']');
    }
    ec_buf_puts(out, "]}");
    return EC_OK;
}

int ec_cbor_decode_json(const uint8_t *data, size_t len, char **json, size_t *jlen) {
    ec_reader r = {data, len, 0};
    ec_buf out = {0};
    int k;
    int rc = decode_item(&r, 1, &out, &k);
    if (rc == EC_OK) rc = ec_finish(&r);
    if (rc == EC_OK && out.oom) rc = EC_INTERNAL_ERROR;
    if (rc) {
        free(out.p);
        return rc;
    }
    *json = (char *)out.p;
    *jlen = out.len;
    return EC_OK;
}
