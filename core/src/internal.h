/* Shared internals of the C core (not part of the public API). */
#ifndef EC_INTERNAL_H
#define EC_INTERNAL_H

#include "elastos_core.h"

#define EC_VERSION "0.1.0"

/* a growable byte buffer */
typedef struct {
    uint8_t *p;
    size_t len;
    size_t cap;
    int oom;
} ec_buf;

void ec_buf_put(ec_buf *b, const void *data, size_t n);
void ec_buf_putc(ec_buf *b, uint8_t c);
void ec_buf_puts(ec_buf *b, const char *s);
void ec_buf_hex(ec_buf *b, const uint8_t *data, size_t n);
void ec_buf_json_string(ec_buf *b, const char *s, size_t n);

/* strict UTF-8 (as Python's codec: no surrogates, no overlongs, at most U+10FFFF) */
int ec_utf8_valid(const uint8_t *s, size_t n);

/* the script of `code` if a program hash with `prefix` may be unlocked by it (else
 * EC_TX_SIGNATURE_TYPE), verified against `param` over `msg` with each key decoded once */
int ec_runnable_verify(uint8_t prefix, const uint8_t *code, size_t clen, const uint8_t *param, size_t plen,
                       const uint8_t *msg, size_t mlen);

/* the SHA-NI code of sha256_shani.c and the AVX-512 code of sha256_avx512.c: x86 with GCC or clang
 * only; run each only when available */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define EC_SHANI 1
int ec_sha256_shani_available(void);
/* SHA256d of one (x1) or two (x2) 64-byte inputs at in + 64 * i into out + 32 * i (out may be in) */
void ec_sha256d64_shani_x1(const uint8_t *in, uint8_t *out);
void ec_sha256d64_shani_x2(const uint8_t *in, uint8_t *out);
int ec_sha256_avx512_available(void);
/* sha256_tables.c: SHA-256's round constants and initial state, and W + K of the padding block after a
 * 64-byte message (filled by ec_sha256_tables_ready, which each code's CPU probe calls) */
extern const uint32_t ec_sha256_k[64];
extern const uint32_t ec_sha256_initial[8];
extern uint32_t ec_sha256_pad_wk[64];
/* and for the AVX-512 code: round 0's d and h from the initial state, less W[0] */
extern uint32_t ec_sha256_round0[2];
void ec_sha256_tables_ready(void);
/* SHA256d of sixteen 64-byte inputs at in + 64 * i into out + 32 * i (out may be in) */
void ec_sha256d64_avx512_x16(const uint8_t *in, uint8_t *out);
/* a merkle tree's levels over the n hashes in level (room for n + 1), hashed with the AVX-512 code while a
 * level has at least eight pairs; answers how many hashes the level reached has, written back at level */
size_t ec_merkle_levels_avx512(uint8_t *level, size_t n);
void ec_sha256d64_avx512_level0(const uint8_t *in, size_t pairs, uint32_t *lanes);
void ec_sha256d64_avx512_level(uint32_t *lanes, size_t pairs);
#endif

/* the fewest pairs of a call the AVX-512 code takes (encoding.c says why) */
#define AVX512_MIN 32

#endif
