/* A minimal strict JSON reader (RFC 8259) for the adapter: one DOM per request line, allocated in
 * an arena that is released in one call. */
#ifndef EC_JSON_H
#define EC_JSON_H

#include <stddef.h>

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
    int type;
    int boolean;      /* J_BOOL */
    int is_int;       /* J_NUM: no fraction and no exponent */
    int lone;         /* J_STR: holds an escaped lone surrogate (kept as WTF-8 in s) */
    char *s;          /* J_STR: the decoded bytes, NUL-terminated; J_NUM: the literal */
    size_t n;         /* J_STR/J_NUM: length of s; J_ARR/J_OBJ: number of items */
    struct jv *items; /* J_ARR/J_OBJ */
    char **keys;      /* J_OBJ: decoded keys */
    size_t *key_lens;
} jv;

typedef struct arena_block arena_block;
typedef struct {
    arena_block *head;
} arena;

void *arena_alloc(arena *a, size_t n);
void arena_free(arena *a);

/* Parse the whole of text[0..len); NULL when it is not one JSON value (or nests deeper than 2000). */
jv *json_parse(arena *a, const char *text, size_t len);

/* The member `key` of an object, or NULL. */
jv *json_get(const jv *obj, const char *key);

#endif
