/* Shared declarations of the adapter's handler files. */
#ifndef EC_ADAPTER_H
#define EC_ADAPTER_H

#include "../src/internal.h"
#include "json.h"

/* one handler: fills `out` with the members of the ok object (without braces) or returns a reason */
typedef int (*handler_fn)(arena *a, const jv *in, ec_buf *out);

typedef struct {
    const char *name; /* qualified: suite/name */
    handler_fn fn;
} handler_entry;

extern const handler_entry encoding_handlers[];
extern const handler_entry crypto_handlers[];
extern const handler_entry chain_handlers[];
extern const int CHAIN_ANNOUNCED;

/* the chain suite's p2p handlers (handlers_p2p.c) and state handlers (handlers_state.c) */
int h_p2p_decode(arena *a, const jv *in, ec_buf *out);
int h_p2p_encode(arena *a, const jv *in, ec_buf *out);
int h_p2p_read_header(arena *a, const jv *in, ec_buf *out);
int h_p2p_handshake(arena *a, const jv *in, ec_buf *out);
int h_genesis(arena *a, const jv *in, ec_buf *out);
int h_tx_context(arena *a, const jv *in, ec_buf *out);
int h_block_apply(arena *a, const jv *in, ec_buf *out);
int h_fork_choice(arena *a, const jv *in, ec_buf *out);

typedef struct {
    int neg;
    int huge; /* more than 2^120 in magnitude */
    unsigned __int128 mag;
} bigint;

int in_shape(const jv *in, const char *const *req, const char *const *opt);
int in_hex(arena *a, const jv *in, const char *key, uint8_t **out, size_t *len);
int hex_decode(arena *a, const char *s, size_t n, uint8_t **out, size_t *len);
int in_hex_list(arena *a, const jv *in, const char *key, uint8_t ***items, size_t **lens, size_t *n);
int in_text(const jv *in, const char *key, const char **s, size_t *n);
int in_small_int(const jv *in, const char *key, long long lo, long long hi, long long *out);
int in_big_int(const jv *in, const char *key, bigint *out);
int parse_decimal(const char *s, size_t n, bigint *out);

void out_key(ec_buf *b, int first, const char *key);
void out_u128(ec_buf *b, int neg, unsigned __int128 v);
void out_hex_field(ec_buf *b, int first, const char *key, const uint8_t *d, size_t n);
void out_str_field(ec_buf *b, int first, const char *key, const char *s);
void out_dec_field(ec_buf *b, int first, const char *key, int neg, unsigned __int128 v);
void out_int_field(ec_buf *b, int first, const char *key, long long v);

#define SHAPE(in, ...)                                                                     \
    do {                                                                                   \
        static const char *const req_[] = {__VA_ARGS__, NULL};                             \
        int rc_ = in_shape(in, req_, NULL);                                                \
        if (rc_) return rc_;                                                               \
    } while (0)
#define TRY(x)                                                                             \
    do {                                                                                   \
        int rc_ = (x);                                                                     \
        if (rc_) return rc_;                                                               \
    } while (0)

#endif
