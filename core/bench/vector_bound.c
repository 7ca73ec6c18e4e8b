/* How close the AVX-512 merkle code runs to this CPU's vector throughput (core/bound.py builds and runs it).
 *
 * It measures, in one run: the clock (a chain of dependent scalar additions, one a cycle), how many
 * 512-bit additions and how many 512-bit rotations the core starts a cycle (eight independent chains
 * each), and the time of one group of sixteen merkle pairs in ec_sha256d64_avx512_level (between
 * levels, in the lane layout) and in ec_sha256d64_avx512_level0 (the first level, from the hashes as
 * bytes). The driver passes the number of vector instructions of a group's hashing and how many of them
 * are rotations and shifts, both counted in this executable's own code with objdump. A group cannot take
 * fewer cycles than its instructions over the additions' rate, nor than its rotations and shifts over
 * theirs: that is the bound. Prints one JSON object. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

#ifdef EC_SHANI
#include <immintrin.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define REPEAT8(s) s s s s s s s s
#define ITERATIONS 100000000L

/* dependent scalar additions: one a cycle, so additions per ns are the clock in GHz */
static double clock_ghz(void) {
    uint64_t a = 1;
    double t = now();
    for (long i = 0; i < ITERATIONS; i++) __asm__ volatile(REPEAT8("add %0, %0\n\t") : "+r"(a));
    return 8.0 * ITERATIONS / (now() - t) / 1e9;
}

/* eight independent chains of one 512-bit instruction ("op" takes a chain's register as its source and
 * destination): instructions started per ns */
#define CHAIN(op, r) op "%%zmm" #r ", %%zmm" #r "\n\t"
#define CHAINS_PER_NS(name, op)                                                                     \
    __attribute__((target("avx512f"))) static double name(void) {                                   \
        double t = now();                                                                           \
        for (long i = 0; i < ITERATIONS; i++)                                                       \
            __asm__ volatile(CHAIN(op, 0) CHAIN(op, 1) CHAIN(op, 2) CHAIN(op, 3) CHAIN(op, 4)        \
                             CHAIN(op, 5) CHAIN(op, 6) CHAIN(op, 7) ::: "xmm0", "xmm1", "xmm2",      \
                             "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");                               \
        return 8.0 * ITERATIONS / (now() - t) / 1e9;                                                \
    }

CHAINS_PER_NS(adds_per_ns, "vpaddd %%zmm8, ")
CHAINS_PER_NS(rotations_per_ns, "vprord $7, ")

#define GROUPS 32 /* a level of 512 pairs */
#define CALLS 2000

/* the best time of one group of sixteen pairs over seven runs of CALLS calls on GROUPS groups */
static void group_ns(double *level, double *level0) {
    uint32_t *lanes = aligned_alloc(64, 512 * (3 * GROUPS + 1));
    uint8_t *in = malloc(64 * 16 * GROUPS);
    if (lanes == NULL || in == NULL) {
        fprintf(stderr, "vector_bound: out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < 128 * (3 * GROUPS + 1); i++) lanes[i] = (uint32_t)(i * 2654435761u);
    for (size_t i = 0; i < 64 * 16 * GROUPS; i++) in[i] = (uint8_t)(i * 131);
    *level = *level0 = 1e9;
    for (int run = 0; run < 7; run++) {
        double t = now();
        for (int k = 0; k < CALLS; k++) ec_sha256d64_avx512_level(lanes, 16 * GROUPS);
        t = (now() - t) / CALLS / GROUPS * 1e9;
        if (t < *level) *level = t;
        t = now();
        for (int k = 0; k < CALLS; k++) ec_sha256d64_avx512_level0(in, 16 * GROUPS, lanes + 128 * (2 * GROUPS + 1));
        t = (now() - t) / CALLS / GROUPS * 1e9;
        if (t < *level0) *level0 = t;
    }
    free(lanes);
    free(in);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: vector_bound VECTOR_INSTRUCTIONS ROTATIONS_AND_SHIFTS (of one group's hashing)\n");
        return 2;
    }
    if (!ec_sha256_avx512_available()) {
        printf("{\"available\": false}\n");
        return 0;
    }
    double ops = atof(argv[1]), port0 = atof(argv[2]);
    double ghz = 0, adds = 0, rots = 0;
    for (int run = 0; run < 3; run++) { /* the best of three of each */
        double g = clock_ghz(), a = adds_per_ns(), r = rotations_per_ns();
        if (g > ghz) ghz = g;
        if (a > adds) adds = a;
        if (r > rots) rots = r;
    }
    double level, level0;
    group_ns(&level, &level0);
    /* the bound in ns: the instructions at the additions' rate, or the rotations and shifts at theirs */
    double bound = ops / adds > port0 / rots ? ops / adds : port0 / rots;
    printf("{\"available\": true, \"ghz\": %.3f, \"adds_per_cycle\": %.3f, \"rotations_per_cycle\": %.3f, "
           "\"vector_instructions\": %.0f, \"rotations_and_shifts\": %.0f, \"bound_ns\": %.1f, "
           "\"level_ns\": %.1f, \"level0_ns\": %.1f}\n",
           ghz, adds / ghz, rots / ghz, ops, port0, bound, level, level0);
    return 0;
}

#else

int main(void) {
    printf("{\"available\": false}\n");
    return 0;
}

#endif
