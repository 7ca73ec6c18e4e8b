/* elastos-core-adapter: the C core behind the JSON-lines adapter protocol (docs/adapter.md).
 *
 * Reads requests on standard input, answers each with one line on standard output, in order,
 * flushing after each batch of complete lines. Input objects are checked exactly as the normative
 * bindings (conformance/bindings.py) check them: a missing or extra field, a wrong JSON type or
 * bad hex is MALFORMED_INPUT. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/internal.h"
#include "adapter.h"
#include "json.h"

#define MAX_LINE (64u * 1024u * 1024u)

/* -- input access ----------------------------------------------------------------------------- */

int in_shape(const jv *in, const char *const *req, const char *const *opt) {
    if (!in || in->type != J_OBJ) return EC_MALFORMED_INPUT;
    for (const char *const *k = req; *k; k++)
        if (!json_get(in, *k)) return EC_MALFORMED_INPUT;
    for (size_t i = 0; i < in->n; i++) {
        if (!in->keys[i]) continue;
        int known = 0;
        for (const char *const *k = req; *k && !known; k++)
            known = strlen(*k) == in->key_lens[i] && memcmp(*k, in->keys[i], in->key_lens[i]) == 0;
        for (const char *const *k = opt; opt && *k && !known; k++)
            known = strlen(*k) == in->key_lens[i] && memcmp(*k, in->keys[i], in->key_lens[i]) == 0;
        if (!known) return EC_MALFORMED_INPUT;
    }
    return EC_OK;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int hex_decode(arena *a, const char *s, size_t n, uint8_t **out, size_t *len) {
    if (n % 2) return EC_MALFORMED_INPUT;
    uint8_t *b = arena_alloc(a, n / 2 + 1);
    if (!b) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return EC_MALFORMED_INPUT;
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *len = n / 2;
    return EC_OK;
}

int in_hex(arena *a, const jv *in, const char *key, uint8_t **out, size_t *len) {
    const jv *v = json_get(in, key);
    if (!v || v->type != J_STR) return EC_MALFORMED_INPUT;
    return hex_decode(a, v->s, v->n, out, len);
}

int in_text(const jv *in, const char *key, const char **s, size_t *n) {
    const jv *v = json_get(in, key);
    if (!v || v->type != J_STR) return EC_MALFORMED_INPUT;
    *s = v->s;
    *n = v->n;
    return EC_OK;
}

int in_small_int(const jv *in, const char *key, long long lo, long long hi, long long *out) {
    const jv *v = json_get(in, key);
    if (!v || v->type != J_NUM || !v->is_int || v->n > 18) return EC_MALFORMED_INPUT;
    long long x = strtoll(v->s, NULL, 10);
    if (x < lo || x > hi) return EC_MALFORMED_INPUT;
    *out = x;
    return EC_OK;
}

int parse_decimal(const char *s, size_t n, bigint *out) {
    size_t i = 0;
    out->neg = n > 0 && s[0] == '-';
    if (out->neg) i = 1;
    if (n - i == 0 || n - i > 80) return EC_MALFORMED_INPUT;
    out->mag = 0;
    out->huge = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return EC_MALFORMED_INPUT;
        if (out->mag > ((unsigned __int128)1 << 120)) out->huge = 1;
        if (!out->huge) out->mag = out->mag * 10 + (unsigned)(s[i] - '0');
    }
    if (out->mag == 0) out->neg = 0;
    return EC_OK;
}

int in_big_int(const jv *in, const char *key, bigint *out) {
    const jv *v = json_get(in, key);
    if (!v || v->type != J_STR) return EC_MALFORMED_INPUT;
    return parse_decimal(v->s, v->n, out);
}

/* -- output ----------------------------------------------------------------------------------- */

void out_u128(ec_buf *b, int neg, unsigned __int128 v) {
    char tmp[48];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    if (neg) ec_buf_putc(b, '-');
    while (k) ec_buf_putc(b, (uint8_t)tmp[--k]);
}

void out_key(ec_buf *b, int first, const char *key) {
    if (!first) ec_buf_putc(b, ',');
    ec_buf_putc(b, '"');
    ec_buf_puts(b, key);
    ec_buf_puts(b, "\":");
}

void out_hex_field(ec_buf *b, int first, const char *key, const uint8_t *d, size_t n) {
    out_key(b, first, key);
    ec_buf_putc(b, '"');
    ec_buf_hex(b, d, n);
    ec_buf_putc(b, '"');
}

void out_str_field(ec_buf *b, int first, const char *key, const char *s) {
    out_key(b, first, key);
    ec_buf_json_string(b, s, strlen(s));
}

void out_dec_field(ec_buf *b, int first, const char *key, int neg, unsigned __int128 v) {
    out_key(b, first, key);
    ec_buf_putc(b, '"');
    out_u128(b, neg, v);
    ec_buf_putc(b, '"');
}

void out_int_field(ec_buf *b, int first, const char *key, long long v) {
    char t[32];
    snprintf(t, sizeof t, "%lld", v);
    out_key(b, first, key);
    ec_buf_puts(b, t);
}

/* -- the handler table ------------------------------------------------------------------------ */

static const handler_entry *find_handler(const char *name, size_t n, const char **announced) {
    for (const handler_entry *t = encoding_handlers; t->name; t++)
        if (strlen(t->name) == n && memcmp(t->name, name, n) == 0) return t;
    for (const handler_entry *t = crypto_handlers; t->name; t++)
        if (strlen(t->name) == n && memcmp(t->name, name, n) == 0) return t;
    for (const handler_entry *t = chain_handlers; t->name; t++)
        if (strlen(t->name) == n && memcmp(t->name, name, n) == 0) {
            (void)announced;
            return t;
        }
    return NULL;
}

static void hello(ec_buf *o) {
    ec_buf_puts(o, "{\"hello\":{\"protocol\":1,\"name\":\"elastos-core\",\"version\":\"");
    ec_buf_puts(o, ec_version());
    ec_buf_puts(o, "\",\"handlers\":[");
    int first = 1;
    const handler_entry *tables[] = {encoding_handlers, crypto_handlers, chain_handlers};
    const int announce[] = {1, 1, CHAIN_ANNOUNCED};
    for (int t = 0; t < 3; t++) {
        if (!announce[t]) continue;
        for (const handler_entry *h = tables[t]; h->name; h++) {
            if (!first) ec_buf_putc(o, ',');
            first = 0;
            ec_buf_json_string(o, h->name, strlen(h->name));
        }
    }
    ec_buf_puts(o, "]}}\n");
}

static void error_reply(ec_buf *o, const char *id, const char *detail) {
    ec_buf_puts(o, "{\"id\":");
    ec_buf_puts(o, id ? id : "null");
    ec_buf_puts(o, ",\"error\":\"MALFORMED_REQUEST\",\"detail\":");
    ec_buf_json_string(o, detail, strlen(detail));
    ec_buf_puts(o, "}\n");
}

static int id_ok(jv *id) {
    if (!id || id->type != J_NUM || !id->is_int || id->n > 16) return 0;
    if (strcmp(id->s, "-0") == 0) { /* JSON's -0 is the integer 0 */
        id->s = "0";
        id->n = 1;
    }
    if (id->s[0] == '-') return 0;
    return strtoull(id->s, NULL, 10) <= 9007199254740991ULL;
}

static void handle_line(const char *line, size_t len, ec_buf *o) {
    arena a = {0};
    if (!ec_utf8_valid((const uint8_t *)line, len)) {
        error_reply(o, NULL, "not a UTF-8 JSON line");
        return;
    }
    jv *msg = json_parse(&a, line, len);
    if (!msg) {
        error_reply(o, NULL, "not a UTF-8 JSON line");
    } else if (msg->type != J_OBJ) {
        error_reply(o, NULL, "not a JSON object");
    } else if (json_get(msg, "hello")) {
        hello(o);
    } else {
        jv *id = json_get(msg, "id"), *name = json_get(msg, "handler"), *input = json_get(msg, "input");
        int idv = id_ok(id);
        if (!idv || !name || name->type != J_STR || !input) {
            error_reply(o, idv ? id->s : NULL, "need an integer id in [0, 2^53), a handler name and an input");
        } else {
            const handler_entry *h = find_handler(name->s, name->n, NULL);
            ec_buf_puts(o, "{\"id\":");
            ec_buf_puts(o, id->s);
            if (!h) {
                ec_buf_puts(o, ",\"unsupported\":true}\n");
            } else {
                ec_buf res = {0};
                ec_buf_putc(&res, '{');
                int rc = h->fn(&a, input, &res);
                ec_buf_putc(&res, '}');
                if (rc == EC_OK && !res.oom) {
                    ec_buf_puts(o, ",\"ok\":");
                    ec_buf_put(o, res.p, res.len);
                    ec_buf_puts(o, "}\n");
                } else if (rc == EC_INTERNAL_ERROR || rc < 0 || res.oom) {
                    ec_buf_puts(o, ",\"error\":\"INTERNAL_ERROR\",\"detail\":\"the C core failed\"}\n");
                } else {
                    ec_buf_puts(o, ",\"reject\":\"");
                    ec_buf_puts(o, ec_reason_name(rc));
                    ec_buf_puts(o, "\"}\n");
                }
                free(res.p);
            }
        }
    }
    arena_free(&a);
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n' && s[i] != '\f' && s[i] != '\v') return 0;
    return 1;
}

static void write_all(ec_buf *o) {
    size_t off = 0;
    while (off < o->len) {
        ssize_t w = write(1, o->p + off, o->len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            exit(1);
        }
        off += (size_t)w;
    }
    o->len = 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--handlers") == 0) {
        ec_buf o = {0};
        hello(&o);
        write_all(&o);
        free(o.p);
        return 0;
    }
    ec_buf line = {0}, out = {0};
    int skipping = 0;
    char chunk[1 << 16];
    for (;;) {
        ssize_t n = read(0, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        size_t start = 0;
        for (size_t i = 0; i < (size_t)n; i++) {
            if (chunk[i] != '\n') continue;
            if (!skipping) {
                ec_buf_put(&line, chunk + start, i - start);
                if (line.len && !blank((char *)line.p, line.len)) handle_line((char *)line.p, line.len, &out);
            }
            skipping = 0;
            line.len = 0;
            start = i + 1;
        }
        if (!skipping && start < (size_t)n) {
            ec_buf_put(&line, chunk + start, (size_t)n - start);
            if (line.len > MAX_LINE) {
                error_reply(&out, NULL, "line too long");
                line.len = 0;
                skipping = 1;
            }
        }
        if (out.len) write_all(&out);
    }
    if (!skipping && line.len && !blank((char *)line.p, line.len)) handle_line((char *)line.p, line.len, &out);
    if (out.len) write_all(&out);
    free(line.p);
    free(out.p);
    return 0;
}

/* a list of hex strings, every item hex-decoded (Input.hex_list) */
int in_hex_list(arena *a, const jv *in, const char *key, uint8_t ***items, size_t **lens, size_t *n) {
    const jv *v = json_get(in, key);
    if (!v || v->type != J_ARR) return EC_MALFORMED_INPUT;
    *items = arena_alloc(a, (v->n + 1) * sizeof **items);
    *lens = arena_alloc(a, (v->n + 1) * sizeof **lens);
    if (!*items || !*lens) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i].type != J_STR) return EC_MALFORMED_INPUT;
        TRY(hex_decode(a, v->items[i].s, v->items[i].n, &(*items)[i], &(*lens)[i]));
    }
    *n = v->n;
    return EC_OK;
}
