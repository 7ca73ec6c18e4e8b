/* SHA-256's constants for the SIMD codes of sha256_shani.c and sha256_avx512.c: the round constants and
 * the initial state (FIPS 180-4), and W[t] + K[t] of the padding block that follows every 64-byte message
 * (0x80, zeros, the bit length 512), whose message schedule is the same for every input. */
#include <stdint.h>

#include "internal.h"

#ifdef EC_SHANI
#include <pthread.h>

const uint32_t ec_sha256_k[64] __attribute__((aligned(64))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

const uint32_t ec_sha256_initial[8] __attribute__((aligned(16))) = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

uint32_t ec_sha256_pad_wk[64] __attribute__((aligned(64)));
uint32_t ec_sha256_round0[2];

static uint32_t rotr(uint32_t x, int n) { return x >> n | x << (32 - n); }

static void compute_pad_schedule(void) {
    uint32_t w[64] = {0x80000000u, [15] = 512};
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    for (int t = 0; t < 64; t++) ec_sha256_pad_wk[t] = w[t] + ec_sha256_k[t];
    /* round 0 from the initial state: T1 less W[0], and T2, are constants; d and h become W[0] plus these */
    const uint32_t *h = ec_sha256_initial;
    uint32_t t1 = h[7] + (rotr(h[4], 6) ^ rotr(h[4], 11) ^ rotr(h[4], 25)) + ((h[4] & h[5]) ^ (~h[4] & h[6])) +
                  ec_sha256_k[0];
    uint32_t t2 = (rotr(h[0], 2) ^ rotr(h[0], 13) ^ rotr(h[0], 22)) + ((h[0] & h[1]) ^ (h[0] & h[2]) ^ (h[1] & h[2]));
    ec_sha256_round0[0] = h[3] + t1;
    ec_sha256_round0[1] = t1 + t2;
}

static pthread_once_t pad_once = PTHREAD_ONCE_INIT;

void ec_sha256_tables_ready(void) { pthread_once(&pad_once, compute_pad_schedule); }

#else

typedef int ec_no_sha256_tables; /* not x86 or not GCC/clang: no SIMD code needs them (ISO C wants a declaration) */

#endif
