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
 * fifteen padded to sixteen); fewer, and smaller calls, go to the SHA-NI or OpenSSL code. On the build
 * machine (a Xeon with both), sixteen pairs take about 39 ns a pair against 86 to 90 ns for the SHA-NI
 * code two at a time: sha256rnds2's throughput bounds the SHA-NI code, while these rounds spread over
 * the vector ports.
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

#define TARGET __attribute__((target("avx512f,avx512bw"), always_inline)) static inline

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

/* one compression of the state s by the sixteen message words w (overwritten by the schedule) */
TARGET void compress(vec s[8], vec w[16]) {
    vec v[8];
    for (int i = 0; i < 8; i++) v[i] = s[i];
#define MESSAGE_WK(i) message_wk(w, i)
    _Pragma("GCC unroll 8") for (int t = 0; t < 64; t += 8) EIGHT_ROUNDS(v, t, MESSAGE_WK);
#undef MESSAGE_WK
    for (int i = 0; i < 8; i++) s[i] = ADD(s[i], v[i]);
}

/* the compression of the padding block after a 64-byte message: no schedule work */
TARGET void compress_pad(vec s[8]) {
    vec v[8];
    for (int i = 0; i < 8; i++) v[i] = s[i];
    _Pragma("GCC unroll 8") for (int t = 0; t < 64; t += 8) EIGHT_ROUNDS(v, t, pad_wk);
    for (int i = 0; i < 8; i++) s[i] = ADD(s[i], v[i]);
}

__attribute__((target("avx512f,avx512bw"))) void ec_sha256d64_avx512_x16(const uint8_t *in, uint8_t *out) {
    /* each 32-bit lane's bytes reversed: the words are big-endian */
    const vec bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    const vec lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const vec in_words = _mm512_slli_epi32(lanes, 4);  /* input l starts at word 16 l */
    const vec out_words = _mm512_slli_epi32(lanes, 3); /* output l at word 8 l */
    vec w[16], s[8];
    /* every input is read (gathered) before anything is written, so out may overlap in */
    for (int i = 0; i < 16; i++)
        w[i] = _mm512_shuffle_epi8(_mm512_i32gather_epi32(ADD(in_words, _mm512_set1_epi32(i)), (const void *)in, 4),
                                   bswap);
    for (int i = 0; i < 8; i++) s[i] = _mm512_set1_epi32((int)ec_sha256_initial[i]);
    compress(s, w);
    compress_pad(s);
    /* the second hash: the digest's eight words, 0x80, zeros, the bit length 256 */
    for (int i = 0; i < 8; i++) {
        w[i] = s[i];
        s[i] = _mm512_set1_epi32((int)ec_sha256_initial[i]);
    }
    w[8] = _mm512_set1_epi32((int)0x80000000u);
    for (int i = 9; i < 15; i++) w[i] = _mm512_setzero_si512();
    w[15] = _mm512_set1_epi32(256);
    compress(s, w);
    for (int i = 0; i < 8; i++)
        _mm512_i32scatter_epi32((void *)out, ADD(out_words, _mm512_set1_epi32(i)), _mm512_shuffle_epi8(s[i], bswap), 4);
}

#else

typedef int ec_no_avx512; /* not x86 or not GCC/clang: no AVX-512 code (ISO C wants a declaration) */

#endif
