/* SHA256d of 64-byte inputs (merkle pairs), sixteen at a time, with AVX-512.
 *
 * Each of the sixteen 32-bit lanes of a 512-bit register holds one input's copy of a SHA-256 working
 * variable or message word, so one instruction does one step for all sixteen inputs. The rounds are
 * the plain FIPS 180-4 ones: the three-input functions Ch, Maj and the XOR of three rotations are one
 * vpternlogd each, the rotations vprord. As in sha256_shani.c, a pair costs three compressions (the
 * pair, the constant padding block whose W + K is computed once, and the one block of the second
 * hash, the digest's words beside constant padding words).
 *
 * encoding.c gives it the pairs of a call of 32 or more, sixteen at a time (a last group of eight to
 * fifteen padded to sixteen); fewer, and smaller calls, go to the SHA-NI or OpenSSL code. A merkle root
 * of 32 pairs or more (chain.c) runs its levels here while they have eight pairs or more, keeping the
 * hashes between levels in the lane layout described at ec_merkle_levels_avx512. On the build machine
 * (a Xeon with both, at about 4 GHz), sixteen pairs take 36 ns a pair on a tree's first level and 35
 * between levels in the lane layout, against 86 to 90 ns for the SHA-NI code two at a time:
 * sha256rnds2's throughput bounds the SHA-NI code, while these rounds spread over two vector ports.
 * They are near that bound: a group's rounds and schedule are about 4,200 additions, rotations, shifts
 * and vpternlogd, which at two a cycle would take 33 ns a pair (core/bound.py measures it).
 *
 * The functions carry target("avx512f,avx512bw") so this file builds with any x86-64 compiler flags;
 * they run only where ec_sha256_avx512_available() says the CPU has AVX-512 F and BW and the operating
 * system saves the 512-bit state (XGETBV). Elsewhere (EC_SHANI undefined: not x86, or not GCC/clang)
 * the file is empty. Its results are tested against OpenSSL and hashlib (tests/test_core_differential_chain.py). */
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#ifdef EC_SHANI
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,avx512bw"), always_inline)) static inline

/* every loop over a group's vectors unrolled whatever the optimisation flags: a rolled loop keeps its
 * array on the stack, each step a store and a load (GCC's -O2 leaves some rolled; unrolled, a group
 * between levels measured 3 % faster) */
#define UNROLL _Pragma("GCC unroll 16")

typedef __m512i vec;

static int avx512_answer;
static pthread_once_t avx512_once = PTHREAD_ONCE_INIT;

static void probe_cpu(void) {
    unsigned a, b, c, d;
    /* OSXSAVE, then XCR0: the SSE, AVX, opmask and both halves of the ZMM state (bits 1, 2, 5, 6, 7) */
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6) != 0xE6) return;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX512F) && (b & bit_AVX512BW)) {
        ec_sha256_tables_ready();
        avx512_answer = 1;
    }
}

int ec_sha256_avx512_available(void) {
    pthread_once(&avx512_once, probe_cpu); /* the CPU asked once (and the padding table made) */
    return avx512_answer;
}

#define XOR3(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96)
#define CH(e, f, g) _mm512_ternarylogic_epi32(e, f, g, 0xCA)  /* e ? f : g */
#define MAJ(a, b, c) _mm512_ternarylogic_epi32(a, b, c, 0xE8) /* two or three of them */
#define ADD _mm512_add_epi32
#define ROR _mm512_ror_epi32
#define SIGMA0(x) XOR3(ROR(x, 7), ROR(x, 18), _mm512_srli_epi32(x, 3))
#define SIGMA1(x) XOR3(ROR(x, 17), ROR(x, 19), _mm512_srli_epi32(x, 10))

/* one round with W[t] + K[t] in wk; the caller rotates the names instead of moving the values */
#define ROUND(a, b, c, d, e, f, g, h, wk)                                                          \
    do {                                                                                           \
        vec t1_ = ADD(ADD(h, XOR3(ROR(e, 6), ROR(e, 11), ROR(e, 25))), ADD(CH(e, f, g), wk));       \
        vec t2_ = ADD(XOR3(ROR(a, 2), ROR(a, 13), ROR(a, 22)), MAJ(a, b, c));                       \
        d = ADD(d, t1_);                                                                           \
        h = ADD(t1_, t2_);                                                                         \
    } while (0)

/* eight rounds from t, with wk(i) giving W[i] + K[i] */
#define EIGHT_ROUNDS(v, t, wk)                                                                     \
    do {                                                                                           \
        ROUND(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], wk((t) + 0));                        \
        ROUND(v[7], v[0], v[1], v[2], v[3], v[4], v[5], v[6], wk((t) + 1));                        \
        ROUND(v[6], v[7], v[0], v[1], v[2], v[3], v[4], v[5], wk((t) + 2));                        \
        ROUND(v[5], v[6], v[7], v[0], v[1], v[2], v[3], v[4], wk((t) + 3));                        \
        ROUND(v[4], v[5], v[6], v[7], v[0], v[1], v[2], v[3], wk((t) + 4));                        \
        ROUND(v[3], v[4], v[5], v[6], v[7], v[0], v[1], v[2], wk((t) + 5));                        \
        ROUND(v[2], v[3], v[4], v[5], v[6], v[7], v[0], v[1], wk((t) + 6));                        \
        ROUND(v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[0], wk((t) + 7));                        \
    } while (0)

/* W[i] for i >= 16 computed in place in the 16-word window w, then W[i] + K[i] */
TARGET vec message_wk(vec w[16], int i) {
    if (i >= 16)
        w[i & 15] = ADD(ADD(w[i & 15], SIGMA0(w[(i + 1) & 15])), ADD(w[(i + 9) & 15], SIGMA1(w[(i + 14) & 15])));
    return ADD(w[i & 15], _mm512_set1_epi32((int)ec_sha256_k[i]));
}

TARGET vec pad_wk(int i) { return _mm512_set1_epi32((int)ec_sha256_pad_wk[i]); }

/* the compression of a first block (from the initial state) by the message words w: round 0's terms of
 * the initial state are constants, so its d and h are W[0] plus ec_sha256_round0[0] and [1] */
TARGET void compress_initial(vec s[8], vec w[16]) {
    vec v[8];
    UNROLL for (int i = 0; i < 8; i++) v[i] = _mm512_set1_epi32((int)ec_sha256_initial[i]);
    v[3] = ADD(w[0], _mm512_set1_epi32((int)ec_sha256_round0[0]));
    v[7] = ADD(w[0], _mm512_set1_epi32((int)ec_sha256_round0[1]));
#define MESSAGE_WK(i) message_wk(w, i)
    /* rounds 1 to 7 as EIGHT_ROUNDS names them, then 8 to 63 */
    ROUND(v[7], v[0], v[1], v[2], v[3], v[4], v[5], v[6], MESSAGE_WK(1));
    ROUND(v[6], v[7], v[0], v[1], v[2], v[3], v[4], v[5], MESSAGE_WK(2));
    ROUND(v[5], v[6], v[7], v[0], v[1], v[2], v[3], v[4], MESSAGE_WK(3));
    ROUND(v[4], v[5], v[6], v[7], v[0], v[1], v[2], v[3], MESSAGE_WK(4));
    ROUND(v[3], v[4], v[5], v[6], v[7], v[0], v[1], v[2], MESSAGE_WK(5));
    ROUND(v[2], v[3], v[4], v[5], v[6], v[7], v[0], v[1], MESSAGE_WK(6));
    ROUND(v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[0], MESSAGE_WK(7));
    _Pragma("GCC unroll 7") for (int t = 8; t < 64; t += 8) EIGHT_ROUNDS(v, t, MESSAGE_WK);
#undef MESSAGE_WK
    UNROLL for (int i = 0; i < 8; i++) s[i] = ADD(v[i], _mm512_set1_epi32((int)ec_sha256_initial[i]));
}

/* the compression of the padding block after a 64-byte message: no schedule work */
TARGET void compress_pad(vec s[8]) {
    vec v[8];
    UNROLL for (int i = 0; i < 8; i++) v[i] = s[i];
    _Pragma("GCC unroll 8") for (int t = 0; t < 64; t += 8) EIGHT_ROUNDS(v, t, pad_wk);
    UNROLL for (int i = 0; i < 8; i++) s[i] = ADD(s[i], v[i]);
}

/* SHA256d of sixteen 64-byte messages given as their big-endian words (w[i]: word i of each message,
 * one message per lane; overwritten), the digests' words into s (s[i]: word i of each digest) */
__attribute__((target("avx512f,avx512bw"), noinline)) static void sha256d64_words(vec w[16], vec s[8]) {
    compress_initial(s, w);
    compress_pad(s);
    /* the second hash: the digest's eight words, 0x80, zeros, the bit length 256 */
    UNROLL for (int i = 0; i < 8; i++) w[i] = s[i];
    w[8] = _mm512_set1_epi32((int)0x80000000u);
    UNROLL for (int i = 9; i < 15; i++) w[i] = _mm512_setzero_si512();
    w[15] = _mm512_set1_epi32(256);
    compress_initial(s, w);
}

/* each 32-bit lane's bytes reversed: the words are big-endian */
#define BSWAP _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203)
#define LANES _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)

/* the sixteen 64-byte inputs at in as message words (word i of input l is the 32-bit word 16 l + i):
 * each input is one load, its words byte-swapped, and the sixteen rows are transposed in registers,
 * 64 shuffles in four steps. After the unpacks of 32-bit then 64-bit elements, u[s][j] holds at its
 * 128-bit lane q the words 4 q + j of inputs 4 s to 4 s + 3; word 4 q + j wants those four lanes side
 * by side (lane s from u[s][j]), a 4 x 4 transpose of 128-bit lanes: two rounds of vshufi32x4.
 * Measured against sixteen vpgatherdd, a first-level group took 2 % less. */
TARGET void load_words(const uint8_t *in, vec w[16]) {
    vec r[16], t[16], u[4][4], x[4];
    UNROLL for (int l = 0; l < 16; l++) r[l] = _mm512_shuffle_epi8(_mm512_loadu_si512((const void *)(in + 64 * l)), BSWAP);
    UNROLL for (int p = 0; p < 8; p++) { /* t[2 p], t[2 p + 1]: words 4 q, 4 q + 1 and 4 q + 2, 4 q + 3 of inputs 2 p, 2 p + 1 */
        t[2 * p] = _mm512_unpacklo_epi32(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm512_unpackhi_epi32(r[2 * p], r[2 * p + 1]);
    }
    UNROLL for (int s = 0; s < 4; s++) {
        u[s][0] = _mm512_unpacklo_epi64(t[4 * s], t[4 * s + 2]);
        u[s][1] = _mm512_unpackhi_epi64(t[4 * s], t[4 * s + 2]);
        u[s][2] = _mm512_unpacklo_epi64(t[4 * s + 1], t[4 * s + 3]);
        u[s][3] = _mm512_unpackhi_epi64(t[4 * s + 1], t[4 * s + 3]);
    }
    UNROLL for (int j = 0; j < 4; j++) {
        x[0] = _mm512_shuffle_i32x4(u[0][j], u[1][j], 0x44); /* lanes 0, 1 of u[0][j], then of u[1][j] */
        x[1] = _mm512_shuffle_i32x4(u[0][j], u[1][j], 0xEE); /* lanes 2, 3 */
        x[2] = _mm512_shuffle_i32x4(u[2][j], u[3][j], 0x44);
        x[3] = _mm512_shuffle_i32x4(u[2][j], u[3][j], 0xEE);
        w[j] = _mm512_shuffle_i32x4(x[0], x[2], 0x88);      /* lane 0 of each u[s][j] */
        w[4 + j] = _mm512_shuffle_i32x4(x[0], x[2], 0xDD);  /* lane 1 */
        w[8 + j] = _mm512_shuffle_i32x4(x[1], x[3], 0x88);  /* lane 2 */
        w[12 + j] = _mm512_shuffle_i32x4(x[1], x[3], 0xDD); /* lane 3 */
    }
}

__attribute__((target("avx512f,avx512bw"))) void ec_sha256d64_avx512_x16(const uint8_t *in, uint8_t *out) {
    const vec out_words = _mm512_slli_epi32(LANES, 3); /* output l at word 8 l */
    vec w[16], s[8];
    load_words(in, w); /* every input is read before anything is written, so out may overlap in */
    sha256d64_words(w, s);
    UNROLL for (int i = 0; i < 8; i++)
        _mm512_i32scatter_epi32((void *)out, ADD(out_words, _mm512_set1_epi32(i)), _mm512_shuffle_epi8(s[i], BSWAP), 4);
}

/* A merkle tree's larger levels in the lane layout. Between levels the hashes stay as the AVX-512 code
 * computes them: in blocks of sixteen, block b holding word k of hash 16 b + l at lanes[128 b + 16 k + l],
 * as a big-endian value. The next level's block c is the pairs of hashes 32 c to 32 c + 31, blocks 2 c
 * and 2 c + 1, whose message words are their even and odd lanes side by side: one two-register permute a
 * word (vpermt2d) instead of a gather, no scatter and no byte swaps. Measured on the build machine, a
 * group of sixteen pairs then takes about 40 ns a pair against 43 with the gathers and scatters. */
#define BLOCK 128 /* uint32 words in a block of sixteen hashes */

static uint32_t *lane_word(uint32_t *lanes, size_t hash, int k) { return lanes + BLOCK * (hash / 16) + 16 * k + hash % 16; }

size_t ec_merkle_levels_avx512(uint8_t *level, size_t n) {
    size_t pairs = (n + 1) / 2, groups = (pairs + 15) / 16;
    /* one block more than the first level fills: a later level's last odd block reads it */
    uint32_t *lanes = aligned_alloc(64, 512 * (groups + 1));
    if (lanes == NULL) return n; /* the caller hashes the levels as usual */
    memset(lanes + BLOCK * groups, 0, 512);
    if (n % 2) memcpy(level + 32 * n, level + 32 * (n - 1), 32); /* an odd level repeats its last hash */
    ec_sha256d64_avx512_level0(level, pairs, lanes);
    size_t m = pairs;
    while ((m + 1) / 2 >= 8) { /* from eight pairs down the SHA-NI code is as fast or faster */
        if (m % 2) {
            for (int k = 0; k < 8; k++) *lane_word(lanes, m, k) = *lane_word(lanes, m - 1, k);
            m++;
        }
        ec_sha256d64_avx512_level(lanes, m / 2);
        m /= 2;
    }
    for (size_t j = 0; j < m; j++)
        for (int k = 0; k < 8; k++) {
            uint32_t v = *lane_word(lanes, j, k);
            uint8_t *o = level + 32 * j + 4 * k;
            o[0] = (uint8_t)(v >> 24), o[1] = (uint8_t)(v >> 16), o[2] = (uint8_t)(v >> 8), o[3] = (uint8_t)v;
        }
    free(lanes);
    return m;
}

/* the first level: pairs of the 64-byte inputs at in, into blocks of lanes (a last group of fewer than
 * sixteen pairs is padded with zeros) */
__attribute__((target("avx512f,avx512bw"))) void ec_sha256d64_avx512_level0(const uint8_t *in, size_t pairs,
                                                                             uint32_t *lanes) {
    vec w[16], s[8];
    for (size_t g = 0; g < pairs; g += 16) {
        if (pairs - g >= 16) {
            load_words(in + 64 * g, w);
        } else {
            uint8_t group[16 * 64] = {0};
            memcpy(group, in + 64 * g, 64 * (pairs - g));
            load_words(group, w);
        }
        sha256d64_words(w, s);
        UNROLL for (int k = 0; k < 8; k++) _mm512_store_si512((void *)(lanes + BLOCK * (g / 16) + 16 * k), s[k]);
    }
}

/* a later level in place: block c from blocks 2 c and 2 c + 1 (its lanes past the level's end are
 * computed from whatever the blocks hold there, and never read as hashes) */
__attribute__((target("avx512f,avx512bw"))) void ec_sha256d64_avx512_level(uint32_t *lanes, size_t pairs) {
    const vec even = _mm512_slli_epi32(LANES, 1);        /* lanes 0, 2, .., 30 of two registers */
    const vec odd = ADD(even, _mm512_set1_epi32(1));     /* lanes 1, 3, .., 31 */
    vec w[16], s[8];
    for (size_t c = 0; c < (pairs + 15) / 16; c++) {
        const uint32_t *a = lanes + BLOCK * 2 * c, *b = a + BLOCK;
        UNROLL for (int k = 0; k < 8; k++) {
            vec x = _mm512_load_si512((const void *)(a + 16 * k)), y = _mm512_load_si512((const void *)(b + 16 * k));
            w[k] = _mm512_permutex2var_epi32(x, even, y);     /* word k of each left hash */
            w[8 + k] = _mm512_permutex2var_epi32(x, odd, y);  /* word k of each right hash */
        }
        sha256d64_words(w, s);
        UNROLL for (int k = 0; k < 8; k++) _mm512_store_si512((void *)(lanes + BLOCK * c + 16 * k), s[k]);
    }
}

#else

typedef int ec_no_avx512; /* not x86 or not GCC/clang: no AVX-512 code (ISO C wants a declaration) */

#endif
