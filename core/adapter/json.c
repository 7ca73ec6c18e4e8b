/* A minimal strict JSON reader for the adapter (see json.h). */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 2000

struct arena_block {
    arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *arena_alloc(arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        arena_block *b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

void arena_free(arena *a) {
    while (a->head) {
        arena_block *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}

typedef struct {
    const char *p, *end;
    arena *a;
    int depth;
} parser;

static void ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* parse a string at ps->p (which is at the opening quote) */
static int parse_string(parser *ps, char **out, size_t *outlen, int *lone) {
    const char *q = ps->p + 1;
    const char *e = q;
    while (e < ps->end && *e != '"') {
        if (*e == '\\') e++;
        e++;
    }
    if (e >= ps->end) return 0;
    char *o = arena_alloc(ps->a, (size_t)(e - q) + 1);
    if (!o) return 0;
    size_t k = 0;
    *lone = 0;
    while (q < e) {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20) return 0;
        if (c != '\\') {
            o[k++] = (char)c;
            q++;
            continue;
        }
        q++;
        switch (*q) {
        case '"': o[k++] = '"'; q++; break;
        case '\\': o[k++] = '\\'; q++; break;
        case '/': o[k++] = '/'; q++; break;
        case 'b': o[k++] = '\b'; q++; break;
        case 'f': o[k++] = '\f'; q++; break;
        case 'n': o[k++] = '\n'; q++; break;
        case 'r': o[k++] = '\r'; q++; break;
        case 't': o[k++] = '\t'; q++; break;
        case 'u': {
            unsigned cp, lo;
            if (e - q < 5 || !hex4(q + 1, &cp)) return 0;
            q += 5;
            if (cp >= 0xD800 && cp <= 0xDBFF && e - q >= 6 && q[0] == '\\' && q[1] == 'u' && hex4(q + 2, &lo) &&
                lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                *lone = 1; /* kept as a WTF-8 three-byte sequence */
            }
            k += put_utf8(o + k, cp);
            break;
        }
        default:
            return 0;
        }
    }
    o[k] = 0;
    *out = o;
    *outlen = k;
    ps->p = e + 1;
    return 1;
}

static int parse_value(parser *ps, jv *v);

static int parse_number(parser *ps, jv *v) {
    const char *s = ps->p, *p = s;
    v->is_int = 1;
    if (p < ps->end && *p == '-') p++;
    if (p >= ps->end) return 0;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9')
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    else return 0;
    if (p < ps->end && *p == '.') {
        v->is_int = 0;
        p++;
        if (p >= ps->end || *p < '0' || *p > '9') return 0;
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        v->is_int = 0;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) p++;
        if (p >= ps->end || *p < '0' || *p > '9') return 0;
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    v->type = J_NUM;
    v->n = (size_t)(p - s);
    v->s = arena_alloc(ps->a, v->n + 1);
    if (!v->s) return 0;
    memcpy(v->s, s, v->n);
    v->s[v->n] = 0;
    ps->p = p;
    return 1;
}

static int literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return 0;
    ps->p += n;
    return 1;
}

/* a growable list of values built in the arena (old arrays are abandoned to the arena) */
typedef struct {
    jv *items;
    char **keys;
    size_t *key_lens;
    size_t n, cap;
} list;

static int list_push(parser *ps, list *l, int with_keys) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        jv *items = arena_alloc(ps->a, cap * sizeof *items);
        if (!items) return 0;
        if (l->n) memcpy(items, l->items, l->n * sizeof *items);
        l->items = items;
        if (with_keys) {
            char **keys = arena_alloc(ps->a, cap * sizeof *keys);
            size_t *lens = arena_alloc(ps->a, cap * sizeof *lens);
            if (!keys || !lens) return 0;
            if (l->n) {
                memcpy(keys, l->keys, l->n * sizeof *keys);
                memcpy(lens, l->key_lens, l->n * sizeof *lens);
            }
            l->keys = keys;
            l->key_lens = lens;
        }
        l->cap = cap;
    }
    memset(&l->items[l->n], 0, sizeof(jv));
    l->n++;
    return 1;
}

/* the key order of an object's members: by key bytes, then by position */
static _Thread_local const jv *key_ctx;

static int key_order(const void *x, const void *y) {
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    size_t la = key_ctx->key_lens[a], lb = key_ctx->key_lens[b], n = la < lb ? la : lb;
    int c = n ? memcmp(key_ctx->keys[a], key_ctx->keys[b], n) : 0;
    if (!c) c = (la > lb) - (la < lb);
    return c ? c : (a > b) - (a < b);
}

/* a repeated key keeps its last value, as Python's json does: blank out earlier copies (found by
 * sorting the members' positions, so an object of many keys costs n log n, not n^2) */
static int blank_repeated_keys(arena *a, jv *v) {
    size_t *idx = arena_alloc(a, v->n * sizeof *idx);
    if (!idx) return 0;
    for (size_t i = 0; i < v->n; i++) idx[i] = i;
    key_ctx = v;
    qsort(idx, v->n, sizeof *idx, key_order);
    for (size_t i = 0; i + 1 < v->n; i++) {
        size_t p = idx[i], q = idx[i + 1];
        if (v->key_lens[p] == v->key_lens[q] && memcmp(v->keys[p], v->keys[q], v->key_lens[p]) == 0) v->keys[p] = NULL;
    }
    return 1;
}

static int parse_value(parser *ps, jv *v) {
    memset(v, 0, sizeof *v);
    ws(ps);
    if (ps->p >= ps->end) return 0;
    char c = *ps->p;
    if (c == '"') {
        v->type = J_STR;
        return parse_string(ps, &v->s, &v->n, &v->lone);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps, v);
    if (c == 't' || c == 'f') {
        v->type = J_BOOL;
        v->boolean = c == 't';
        return literal(ps, c == 't' ? "true" : "false");
    }
    if (c == 'n') {
        v->type = J_NULL;
        return literal(ps, "null");
    }
    if (c != '[' && c != '{') return 0;
    if (++ps->depth > MAX_DEPTH) return 0;
    int obj = c == '{';
    char close = obj ? '}' : ']';
    list l = {0};
    ps->p++;
    ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            if (!list_push(ps, &l, obj)) return 0;
            if (obj) {
                ws(ps);
                int lone;
                if (ps->p >= ps->end || *ps->p != '"') return 0;
                if (!parse_string(ps, &l.keys[l.n - 1], &l.key_lens[l.n - 1], &lone)) return 0;
                ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') return 0;
                ps->p++;
            }
            if (!parse_value(ps, &l.items[l.n - 1])) return 0;
            ws(ps);
            if (ps->p >= ps->end) return 0;
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p != close) return 0;
            ps->p++;
            break;
        }
    }
    ps->depth--;
    v->type = obj ? J_OBJ : J_ARR;
    v->items = l.items;
    v->keys = l.keys;
    v->key_lens = l.key_lens;
    v->n = l.n;
    if (obj && v->n > 1 && !blank_repeated_keys(ps->a, v)) return 0;
    return 1;
}

jv *json_parse(arena *a, const char *text, size_t len) {
    parser ps = {text, text + len, a, 0};
    jv *v = arena_alloc(a, sizeof *v);
    if (!v || !parse_value(&ps, v)) return NULL;
    ws(&ps);
    return ps.p == ps.end ? v : NULL;
}

jv *json_get(const jv *obj, const char *key) {
    if (!obj || obj->type != J_OBJ) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->n; i++)
        if (obj->keys[i] && obj->key_lens[i] == n && memcmp(obj->keys[i], key, n) == 0) return &obj->items[i];
    return NULL;
}
