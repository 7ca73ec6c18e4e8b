/* Encoding primitives: the bounds-checked reader, VarUint/VarBytes (ENC-001..004), hashes,
 * base58 and base58check (B58-001..003) and addresses (ADDR-001..004). */
#define EC_REASON_NAMES_DEFINE
/* the low-level SHA256_* calls skip EVP's per-call method fetch (a large share of hashing 64 bytes) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "internal.h"
#include "elastos_tables.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char *ec_version(void) { return EC_VERSION; }
const char *ec_reasons_fingerprint(void) { return EC_REASONS_FINGERPRINT; }
int ec_reason_count(void) { return EC_REASON_COUNT; }

const char *ec_reason_name(int code) {
    if (code < 0 || code >= EC_REASON_COUNT) return "INTERNAL_ERROR";
    return ec_reason_names[code];
}

void ec_free(void *p) { free(p); }

/* -- reader ----------------------------------------------------------------------------------- */

int ec_read(ec_reader *r, size_t n, const uint8_t **out) {
    /* [ENC-001] a field is read only when all of its bytes are present */
    if (n > r->len - r->pos) return EC_TRUNCATED;
    if (out) *out = r->data + r->pos;
    r->pos += n;
    return EC_OK;
}

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

int ec_read_u8(ec_reader *r, uint8_t *out) {
    const uint8_t *p;
    int rc = ec_read(r, 1, &p);
    if (rc == EC_OK && out) *out = p[0];
    return rc;
}

int ec_read_u16(ec_reader *r, uint16_t *out) {
    const uint8_t *p;
    int rc = ec_read(r, 2, &p);
    if (rc == EC_OK && out) *out = (uint16_t)le(p, 2);
    return rc;
}

int ec_read_u32(ec_reader *r, uint32_t *out) {
    const uint8_t *p;
    int rc = ec_read(r, 4, &p);
    if (rc == EC_OK && out) *out = (uint32_t)le(p, 4);
    return rc;
}

int ec_read_u64(ec_reader *r, uint64_t *out) {
    const uint8_t *p;
    int rc = ec_read(r, 8, &p);
    if (rc == EC_OK && out) *out = le(p, 8);
    return rc;
}

int ec_read_varuint(ec_reader *r, uint64_t *out) {
    const uint8_t *p;
    int rc = ec_read(r, 1, &p);
    if (rc) return rc;
    uint8_t marker = p[0];
    if (marker < 0xFD) {
        *out = marker;
        return EC_OK;
    }
    int size = marker == 0xFD ? 2 : marker == 0xFE ? 4 : 8;
    uint64_t minimum = marker == 0xFD ? 0xFD : marker == 0xFE ? 0x10000 : 0x100000000ULL;
    if ((rc = ec_read(r, (size_t)size, &p))) return rc;
    uint64_t v = le(p, size);
    /* [ENC-003] a VarUint uses its shortest form */
    if (v < minimum) return EC_NON_CANONICAL_VARUINT;
    *out = v;
    return EC_OK;
}

int ec_read_varbytes(ec_reader *r, uint64_t max, const uint8_t **data, size_t *len) {
    uint64_t n;
    int rc = ec_read_varuint(r, &n);
    if (rc) return rc;
    /* [ENC-004] the length prefix is at most the field's maximum */
    if (n > max) return EC_LENGTH_EXCEEDS_MAX;
    /* [ENC-001] (the length is checked against the remaining bytes before any use) */
    if (n > r->len - r->pos) return EC_TRUNCATED;
    *len = (size_t)n;
    return ec_read(r, (size_t)n, data);
}

int ec_finish(ec_reader *r) {
    /* [ENC-002] a complete object is the whole input */
    return r->pos == r->len ? EC_OK : EC_TRAILING_BYTES;
}

size_t ec_varuint_encode(uint64_t v, uint8_t *out) {
    if (v < 0xFD) {
        out[0] = (uint8_t)v;
        return 1;
    }
    int size = v <= 0xFFFF ? 2 : v <= 0xFFFFFFFFULL ? 4 : 8;
    out[0] = size == 2 ? 0xFD : size == 4 ? 0xFE : 0xFF;
    for (int i = 0; i < size; i++) out[1 + i] = (uint8_t)(v >> (8 * i));
    return (size_t)size + 1;
}

/* -- hashes ----------------------------------------------------------------------------------- */

void ec_sha256(const uint8_t *data, size_t len, uint8_t *out) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

void ec_sha256d(const uint8_t *data, size_t len, uint8_t *out) {
    uint8_t h[32];
    ec_sha256(data, len, h);
    ec_sha256(h, 32, out);
}

/* sha256d of exactly 64 bytes (a merkle pair): the first SHA-256 is the data block and a padding block
 * that is the same for every 64-byte input, the second is one block of the 32-byte digest and its
 * constant padding. Three compressions through OpenSSL's SHA256_Transform (its SHA-NI or AVX code),
 * without the Init/Update/Final bookkeeping. */
static const uint8_t PAD_AFTER_64[64] = {0x80, [62] = 0x02}; /* 0x80, zeros, bit length 512 */

static void be32_words(const SHA256_CTX *c, uint8_t *out) {
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

/* the initial state, made once: threads reach this code at once (cffi and the merkle extension release the
 * GIL), and SHA256_Init clears the context before it sets it, so an unsynchronised second Init could be read
 * half done by a thread copying the state */
static SHA256_CTX sha256_initial_ctx;
static pthread_once_t sha256_initial_once = PTHREAD_ONCE_INIT;

static void sha256_initial_init(void) { SHA256_Init(&sha256_initial_ctx); }

static void sha256d64_openssl(const uint8_t *in64, uint8_t *out32) {
    pthread_once(&sha256_initial_once, sha256_initial_init);
    SHA256_CTX c = sha256_initial_ctx;
    uint8_t second[64] = {[32] = 0x80, [62] = 0x01}; /* digest, 0x80, zeros, bit length 256 */
    SHA256_Transform(&c, in64);
    SHA256_Transform(&c, PAD_AFTER_64);
    be32_words(&c, second);
    c = sha256_initial_ctx;
    SHA256_Transform(&c, second);
    be32_words(&c, out32);
}

/* Which code hashes 64-byte inputs (ec_sha256d64_select):
 *   0  OpenSSL's compression, above;
 *   1  the SHA-NI code of sha256_shani.c, two inputs at once;
 *   2  the AVX-512 code of sha256_avx512.c, sixteen inputs at once, for calls of AVX512_MIN inputs or
 *      more; the rest (and smaller calls) on the SHA-NI code where the CPU has it, else OpenSSL's.
 * The highest the CPU can run is selected on first use; the tests and the benchmark select each in
 * turn to compare them. */
static _Atomic int use_code = -1; /* read and set from any thread */

static int code_available(int code) { /* 1 or 2; OpenSSL's (0) always is */
#ifdef EC_SHANI
    return code == 2 ? ec_sha256_avx512_available() : ec_sha256_shani_available();
#else
    return 0;
#endif
}

int ec_sha256d64_select(int code) {
    int c = code > 2 ? 2 : code < 0 ? 0 : code;
    while (c > 0 && !code_available(c)) c--;
    use_code = c;
    return c;
}

int ec_sha256d64_selected(void) {
    int c = use_code;
    return c < 0 ? ec_sha256d64_select(2) : c;
}

void ec_sha256d64(const uint8_t *in64, uint8_t *out32) {
#ifdef EC_SHANI
    if (ec_sha256d64_selected() >= 1 && ec_sha256_shani_available()) {
        ec_sha256d64_shani_x1(in64, out32);
        return;
    }
#endif
    sha256d64_openssl(in64, out32);
}

/* The AVX-512 code takes a call of at least AVX512_MIN inputs (fewer go to the SHA-NI code): after the
 * vector units have idled, the first 512-bit instructions run slowly for a while, and measured one call
 * after 10 ms idle, 8 and 16 pairs were slower on AVX-512 than on SHA-NI and 32 faster (AVX512_MIN,
 * internal.h; a merkle root of that many pairs takes its own course, ec_merkle_levels_avx512). In such
 * a call, a last group of at least AVX512_TAIL_MIN inputs (fewer than sixteen) goes through the AVX-512
 * code too, padded to sixteen: sixteen cost about as much as seven or eight on the SHA-NI code. */
#define AVX512_TAIL_MIN 8

void ec_sha256d64_many(const uint8_t *in, uint8_t *out, size_t n) {
    size_t i = 0;
#ifdef EC_SHANI
    int code = ec_sha256d64_selected();
    if (code == 2 && n >= AVX512_MIN) {
        for (; i + 16 <= n; i += 16) ec_sha256d64_avx512_x16(in + 64 * i, out + 32 * i);
        if (n - i >= AVX512_TAIL_MIN) {
            uint8_t group[16 * 64] = {0}; /* read whole before the outputs are written over the inputs */
            memcpy(group, in + 64 * i, 64 * (n - i));
            ec_sha256d64_avx512_x16(group, group);
            memcpy(out + 32 * i, group, 32 * (n - i));
            return;
        }
    }
    if (code >= 1 && ec_sha256_shani_available()) {
        for (; i + 2 <= n; i += 2) ec_sha256d64_shani_x2(in + 64 * i, out + 32 * i);
        if (i < n) ec_sha256d64_shani_x1(in + 64 * i, out + 32 * i);
        return;
    }
#endif
    /* in order: output i is written after input i is read, over bytes inputs <= i have consumed */
    for (; i < n; i++) sha256d64_openssl(in + 64 * i, out + 32 * i);
}

static EVP_MD *ripemd160_md; /* fetched once, for every thread (NULL if the provider lacks it) */
static pthread_once_t ripemd160_once = PTHREAD_ONCE_INIT;

static void ripemd160_fetch(void) { ripemd160_md = EVP_MD_fetch(NULL, "RIPEMD160", NULL); }

int ec_ripemd160(const uint8_t *data, size_t len, uint8_t *out) {
    unsigned int n = 0;
    pthread_once(&ripemd160_once, ripemd160_fetch);
    const EVP_MD *md = ripemd160_md;
    if (!md) return EC_INTERNAL_ERROR;
    return EVP_Digest(data, len, out, &n, md, NULL) == 1 && n == 20 ? EC_OK : EC_INTERNAL_ERROR;
}

int ec_hash160(const uint8_t *data, size_t len, uint8_t *out) {
    uint8_t h[32];
    ec_sha256(data, len, h);
    return ec_ripemd160(h, 32, out);
}

/* -- base58 ----------------------------------------------------------------------------------- */

static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static int b58_digit(unsigned char c) {
    const char *p = c ? strchr(B58, c) : NULL;
    return p ? (int)(p - B58) : -1;
}

int ec_b58_encode(const uint8_t *data, size_t len, char *out, size_t cap, size_t *outlen) {
    size_t zeros = 0;
    while (zeros < len && data[zeros] == 0) zeros++;
    size_t size = (len - zeros) * 138 / 100 + 1; /* log(256) / log(58) */
    uint8_t *digits = calloc(size ? size : 1, 1);
    if (!digits) return EC_INTERNAL_ERROR;
    size_t used = 0;
    for (size_t i = zeros; i < len; i++) {
        unsigned carry = data[i];
        size_t j = 0;
        for (; j < used || carry; j++) {
            carry += 256u * (j < used ? digits[j] : 0);
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        used = j;
    }
    if (zeros + used + 1 > cap) {
        free(digits);
        return EC_INTERNAL_ERROR;
    }
    size_t k = 0;
    for (size_t i = 0; i < zeros; i++) out[k++] = '1';
    for (size_t i = 0; i < used; i++) out[k++] = B58[digits[used - 1 - i]];
    out[k] = 0;
    *outlen = k;
    free(digits);
    return EC_OK;
}

int ec_b58_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *outlen) {
    /* [B58-001] base58 text uses only the Bitcoin alphabet */
    for (size_t i = 0; i < len; i++)
        if (b58_digit((unsigned char)text[i]) < 0) return EC_INVALID_BASE58_CHARACTER;
    size_t zeros = 0;
    while (zeros < len && text[zeros] == '1') zeros++;
    uint8_t *bytes = calloc(len ? len : 1, 1); /* little-endian base-256 digits */
    if (!bytes) return EC_INTERNAL_ERROR;
    size_t used = 0;
    for (size_t i = zeros; i < len; i++) {
        unsigned carry = (unsigned)b58_digit((unsigned char)text[i]);
        size_t j = 0;
        for (; j < used || carry; j++) {
            carry += 58u * (j < used ? bytes[j] : 0);
            bytes[j] = (uint8_t)(carry & 0xFF);
            carry >>= 8;
        }
        used = j;
    }
    if (zeros + used > cap) {
        free(bytes);
        return EC_INTERNAL_ERROR;
    }
    size_t k = 0;
    for (size_t i = 0; i < zeros; i++) out[k++] = 0;
    for (size_t i = 0; i < used; i++) out[k++] = bytes[used - 1 - i];
    *outlen = k;
    free(bytes);
    return EC_OK;
}

int ec_b58check_encode(const uint8_t *payload, size_t len, char *out, size_t cap, size_t *outlen) {
    uint8_t *buf = malloc(len + 4);
    uint8_t h[32];
    if (!buf) return EC_INTERNAL_ERROR;
    if (len) memcpy(buf, payload, len);
    ec_sha256d(payload, len, h);
    memcpy(buf + len, h, 4);
    int rc = ec_b58_encode(buf, len + 4, out, cap, outlen);
    free(buf);
    return rc;
}

int ec_b58check_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *outlen) {
    size_t n;
    int rc = ec_b58_decode(text, len, out, cap, &n);
    if (rc) return rc;
    /* [B58-002] a Base58Check string decodes to at least the 4 checksum bytes */
    if (n < 4) return EC_TRUNCATED;
    uint8_t h[32];
    ec_sha256d(out, n - 4, h);
    /* [B58-003] the last 4 bytes are sha256d of the rest, first 4 bytes */
    if (memcmp(h, out + n - 4, 4) != 0) return EC_BAD_CHECKSUM;
    *outlen = n - 4;
    return EC_OK;
}

/* -- addresses -------------------------------------------------------------------------------- */

const char *ec_prefix_name(int prefix) {
    for (int i = 0; i < EC_PREFIX_NAMES_COUNT; i++)
        if (EC_PREFIX_NAMES[i].byte == prefix) return EC_PREFIX_NAMES[i].name;
    return NULL;
}

int ec_address_encode(const uint8_t *ph, size_t len, char *out35) {
    /* [ENC-006] a Uint168 is exactly 21 bytes */
    if (len != 21) return EC_WRONG_LENGTH;
    /* [ADDR-004] a program hash written as an address has a known prefix */
    if (!ec_prefix_name(ph[0])) return EC_ADDRESS_UNKNOWN_PREFIX;
    size_t n;
    return ec_b58check_encode(ph, 21, out35, 35, &n);
}

static size_t utf8_chars(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

int ec_address_decode(const char *text, size_t len, uint8_t *out21) {
    /* [ADDR-001] an address is exactly 34 characters */
    if (utf8_chars(text, len) != 34) return EC_ADDRESS_LENGTH;
    uint8_t raw[34];
    size_t n;
    int rc = ec_b58_decode(text, len, raw, sizeof raw, &n);
    if (rc) return rc;
    /* [ADDR-002] an address decodes to exactly 25 bytes with a non-zero first byte */
    if (n != 25 || raw[0] == 0) return EC_ADDRESS_NOT_CANONICAL;
    uint8_t h[32];
    ec_sha256d(raw, 21, h);
    /* [ADDR-003] the checksum is sha256d(ph)[0:4] */
    if (memcmp(h, raw + 21, 4) != 0) return EC_BAD_CHECKSUM;
    /* [ADDR-004] a program hash written as an address has a known prefix */
    if (!ec_prefix_name(raw[0])) return EC_ADDRESS_UNKNOWN_PREFIX;
    memcpy(out21, raw, 21);
    return EC_OK;
}
