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

static const uint32_t K[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t INITIAL[8] __attribute__((aligned(16))) = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* W[t] + K[t] of the padding block after a 64-byte message: 0x80, zeros, the bit length 512 */
static uint32_t PAD_WK[64] __attribute__((aligned(16)));

static uint32_t rotr(uint32_t x, int n) { return x >> n | x << (32 - n); }

static void compute_pad_schedule(void) {
    uint32_t w[64] = {0x80000000u, [15] = 512};
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    for (int t = 0; t < 64; t++) PAD_WK[t] = w[t] + K[t];
}

static int shani_answer;
static pthread_once_t shani_once = PTHREAD_ONCE_INIT;

static void probe_cpu(void) {
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
        __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA)) {
        compute_pad_schedule();
        shani_answer = 1;
    }
}

int ec_sha256_shani_available(void) {
    pthread_once(&shani_once, probe_cpu); /* the CPU asked once, the padding table made once */
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

TARGET __m128i k4(int q) { return _mm_load_si128((const __m128i *)&K[4 * q]); }

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
            __m128i wk_ = _mm_load_si128((const __m128i *)&PAD_WK[4 * q_]);                        \
            for (int l_ = 0; l_ < LANES; l_++) quad(&s[l_], wk_);                                  \
        }                                                                                          \
        FEED_FORWARD(LANES, s, save_);                                                             \
    } while (0)

/* LANES inputs of 64 bytes at in + 64 * l to their SHA256d at out + 32 * l; every input is read
 * before anything is written, so `out` may overlap `in` as a merkle level hashed in place does */
#define SHA256D64(LANES, in, out)                                                                  \
    do {                                                                                           \
        const __m128i bswap_ = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);       \
        const __m128i init_dcba_ = _mm_load_si128((const __m128i *)&INITIAL[0]);                   \
        const __m128i init_hgfe_ = _mm_load_si128((const __m128i *)&INITIAL[4]);                   \
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
