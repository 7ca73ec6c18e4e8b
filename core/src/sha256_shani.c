/* SHA256d of 64-byte inputs (merkle pairs) with the x86 SHA extensions (SHA-NI), two inputs at once.
 *
 * A merkle pair costs three SHA-256 compressions: the 64-byte pair, the padding block that follows
 * every 64-byte message, and the one block of the second hash (the 32-byte digest and its padding).
 * Here:
 *   - two pairs are hashed together, each step issued for both before the next, so that the two
 *     independent dependency chains of sha256rnds2 fill each other's latency;
 *   - the padding block is the same for every pair, so its whole message schedule plus the round
 *     constants (W[t] + K[t], t = 0..63) is computed once, and its 64 rounds need no schedule work;
 *   - the second hash's message words are the first digest's state words as they are (a big-endian
 *     digest read as big-endian words), with the constant padding words beside them.
 * The functions carry target("sha,sse4.1") so this file builds with any x86-64 compiler flags; they
 * run only where ec_sha256_shani_available() says the CPU has them (encoding.c selects at run time
 * and falls back to OpenSSL). Elsewhere (EC_SHANI undefined) the file is empty. Its results are tested against OpenSSL and hashlib (tests/test_core_differential.py). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#ifdef EC_SHANI
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>

#define TARGET __attribute__((target("sha,sse4.1"), always_inline)) static inline

static int shani_answer;
static pthread_once_t shani_once = PTHREAD_ONCE_INIT;

static void probe_cpu(void) {
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
        __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA)) {
        ec_sha256_tables_ready();
        shani_answer = 1;
    }
}

int ec_sha256_shani_available(void) {
    pthread_once(&shani_once, probe_cpu); /* the CPU asked once (and the padding table made) */
    return shani_answer;
}

/* the state as sha256rnds2 holds it: ABEF and CDGH */
typedef struct {
    __m128i abef, cdgh;
} lane;

/* from the words h0..h3 (lane 0 = h0) and h4..h7 */
TARGET lane from_words(__m128i dcba, __m128i hgfe) {
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1), efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    return (lane){_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0)};
}

TARGET void to_words(lane s, __m128i *dcba, __m128i *hgfe) {
    __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B), dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
    *dcba = _mm_blend_epi16(feba, dchg, 0xF0);
    *hgfe = _mm_alignr_epi8(dchg, feba, 8);
}

/* four rounds with W + K of those rounds */
TARGET void quad(lane *s, __m128i wk) {
    s->cdgh = _mm_sha256rnds2_epu32(s->cdgh, s->abef, wk);
    s->abef = _mm_sha256rnds2_epu32(s->abef, s->cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

/* W[t..t+3] from W[t-16..t-1] in four vectors */
TARGET __m128i schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3) {
    __m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
    return _mm_sha256msg2_epu32(x, w3);
}

TARGET __m128i k4(int q) { return _mm_load_si128((const __m128i *)&ec_sha256_k[4 * q]); }

/* the feed-forward of a compression: each lane's state plus the state it started from */
#define FEED_FORWARD(LANES, s, save)                                                               \
    for (int l_ = 0; l_ < LANES; l_++) {                                                           \
        s[l_].abef = _mm_add_epi32(s[l_].abef, save[l_].abef);                                     \
        s[l_].cdgh = _mm_add_epi32(s[l_].cdgh, save[l_].cdgh);                                     \
    }

/* one compression per lane, of the 16 message words w[l][0..3] (lane 0 of w[l][0] is W[0]), the
 * lanes' steps interleaved */
#define COMPRESS(LANES, s, w)                                                                      \
    do {                                                                                           \
        lane save_[LANES];                                                                         \
        for (int l_ = 0; l_ < LANES; l_++) save_[l_] = s[l_];                                      \
        _Pragma("GCC unroll 16") for (int q_ = 0; q_ < 16; q_++) {                                 \
            for (int l_ = 0; l_ < LANES; l_++) {                                                   \
                if (q_ >= 4)                                                                       \
                    w[l_][q_ & 3] = schedule(w[l_][q_ & 3], w[l_][(q_ + 1) & 3], w[l_][(q_ + 2) & 3], \
                                             w[l_][(q_ + 3) & 3]);                                 \
                quad(&s[l_], _mm_add_epi32(w[l_][q_ & 3], k4(q_)));                                \
            }                                                                                      \
        }                                                                                          \
        FEED_FORWARD(LANES, s, save_);                                                             \
    } while (0)

/* the padding block: its W + K precomputed */
#define COMPRESS_PAD(LANES, s)                                                                     \
    do {                                                                                           \
        lane save_[LANES];                                                                         \
        for (int l_ = 0; l_ < LANES; l_++) save_[l_] = s[l_];                                      \
        _Pragma("GCC unroll 16") for (int q_ = 0; q_ < 16; q_++) {                                 \
            __m128i wk_ = _mm_load_si128((const __m128i *)&ec_sha256_pad_wk[4 * q_]);              \
            for (int l_ = 0; l_ < LANES; l_++) quad(&s[l_], wk_);                                  \
        }                                                                                          \
        FEED_FORWARD(LANES, s, save_);                                                             \
    } while (0)

/* LANES inputs of 64 bytes at in + 64 * l to their SHA256d at out + 32 * l; every input is read
 * before anything is written, so `out` may overlap `in` as a merkle level hashed in place does */
#define SHA256D64(LANES, in, out)                                                                  \
    do {                                                                                           \
        const __m128i bswap_ = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);       \
        const __m128i init_dcba_ = _mm_load_si128((const __m128i *)&ec_sha256_initial[0]);         \
        const __m128i init_hgfe_ = _mm_load_si128((const __m128i *)&ec_sha256_initial[4]);         \
        lane s_[LANES];                                                                            \
        __m128i w_[LANES][4];                                                                      \
        for (int l_ = 0; l_ < LANES; l_++) {                                                       \
            s_[l_] = from_words(init_dcba_, init_hgfe_);                                           \
            for (int i_ = 0; i_ < 4; i_++)                                                         \
                w_[l_][i_] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 64 * l_ + 16 * i_)), bswap_); \
        }                                                                                          \
        COMPRESS(LANES, s_, w_);                                                                   \
        COMPRESS_PAD(LANES, s_);                                                                   \
        for (int l_ = 0; l_ < LANES; l_++) { /* the digest's words, 0x80, zeros, bit length 256 */ \
            to_words(s_[l_], &w_[l_][0], &w_[l_][1]);                                              \
            w_[l_][2] = _mm_set_epi32(0, 0, 0, (int)0x80000000u);                                  \
            w_[l_][3] = _mm_set_epi32(256, 0, 0, 0);                                               \
            s_[l_] = from_words(init_dcba_, init_hgfe_);                                           \
        }                                                                                          \
        COMPRESS(LANES, s_, w_);                                                                   \
        for (int l_ = 0; l_ < LANES; l_++) {                                                       \
            __m128i dcba_, hgfe_;                                                                  \
            to_words(s_[l_], &dcba_, &hgfe_);                                                      \
            _mm_storeu_si128((__m128i *)(out + 32 * l_), _mm_shuffle_epi8(dcba_, bswap_));         \
            _mm_storeu_si128((__m128i *)(out + 32 * l_ + 16), _mm_shuffle_epi8(hgfe_, bswap_));    \
        }                                                                                          \
    } while (0)

__attribute__((target("sha,sse4.1"))) void ec_sha256d64_shani_x1(const uint8_t *in, uint8_t *out) {
    SHA256D64(1, in, out);
}

__attribute__((target("sha,sse4.1"))) void ec_sha256d64_shani_x2(const uint8_t *in, uint8_t *out) {
    SHA256D64(2, in, out);
}

#else

typedef int ec_no_shani; /* not x86 or not GCC/clang: only the OpenSSL path (ISO C wants a declaration) */

#endif
