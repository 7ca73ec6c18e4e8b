/* P-256 ECDSA (CRY-001..007), redeem scripts and programs (CRY-020..027), Ed25519 and X25519
 * (CRY-010..014). All curve arithmetic is OpenSSL's libcrypto; this file only checks encodings
 * and ranges and drives libcrypto. The low-level EC_KEY / ECDSA_do_verify interface is used on
 * purpose: it verifies without the per-call allocations of the EVP layer (see docs/core.md). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "internal.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* P-256's field prime P and group order N, big-endian */
static const uint8_t P256_P[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t P256_N[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

static EC_GROUP *group;
static pthread_once_t group_once = PTHREAD_ONCE_INIT;

static void group_init(void) { group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1); }

static const EC_GROUP *p256(void) {
    pthread_once(&group_once, group_init);
    return group;
}

static int is_zero(const uint8_t *a, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= a[i];
    return acc == 0;
}

/* 1 when 1 <= a < N (a big-endian, 32 bytes) */
static int in_scalar_range(const uint8_t *a) { return !is_zero(a, 32) && memcmp(a, P256_N, 32) < 0; }

/* Decode a compressed key into an EC_POINT (caller frees), with CRY-001..003. */
static int decode_point(const uint8_t *pk, size_t len, EC_POINT **out) {
    /* [CRY-001] a public key is 33 bytes: 0x02 or 0x03, then X */
    if (len != 33 || (pk[0] != 0x02 && pk[0] != 0x03)) return EC_PUBKEY_ENCODING;
    /* [CRY-002] X is less than the field prime */
    if (memcmp(pk + 1, P256_P, 32) >= 0) return EC_PUBKEY_NOT_ON_CURVE;
    const EC_GROUP *g = p256();
    EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
    if (!pt) return EC_INTERNAL_ERROR;
    /* [CRY-003] X^3 - 3X + B is a square modulo P */
    if (EC_POINT_oct2point(g, pt, pk, 33, NULL) != 1) {
        EC_POINT_free(pt);
        return EC_PUBKEY_NOT_ON_CURVE;
    }
    *out = pt;
    return EC_OK;
}

int ec_p256_decode(const uint8_t *pk, size_t len, uint8_t *x32, uint8_t *y32) {
    EC_POINT *pt;
    int rc = decode_point(pk, len, &pt);
    if (rc) return rc;
    uint8_t raw[65];
    if (EC_POINT_point2oct(p256(), pt, POINT_CONVERSION_UNCOMPRESSED, raw, sizeof raw, NULL) != 65) rc = EC_INTERNAL_ERROR;
    EC_POINT_free(pt);
    if (rc) return rc;
    memcpy(x32, raw + 1, 32);
    memcpy(y32, raw + 33, 32);
    return EC_OK;
}

static int private_scalar(const uint8_t *priv, size_t len) {
    /* [CRY-007] a private key is 32 bytes in [1, N-1] */
    if (len != 32 || !in_scalar_range(priv)) return EC_PRIVATE_KEY_OUT_OF_RANGE;
    return EC_OK;
}

int ec_p256_public_from_private(const uint8_t *priv, size_t len, uint8_t *out33) {
    int rc = private_scalar(priv, len);
    if (rc) return rc;
    const EC_GROUP *g = p256();
    BIGNUM *d = BN_bin2bn(priv, 32, NULL);
    EC_POINT *pt = EC_POINT_new(g);
    rc = EC_INTERNAL_ERROR;
    if (d && pt && EC_POINT_mul(g, pt, d, NULL, NULL, NULL) == 1 &&
        EC_POINT_point2oct(g, pt, POINT_CONVERSION_COMPRESSED, out33, 33, NULL) == 33)
        rc = EC_OK;
    BN_clear_free(d);
    EC_POINT_free(pt);
    return rc;
}

/* Verify r||s (already range-checked) over a SHA-256 digest under a decoded point. */
static int verify_digest(const EC_POINT *pt, const uint8_t *digest, const uint8_t *sig) {
    EC_KEY *key = EC_KEY_new();
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
    int rc = EC_INTERNAL_ERROR;
    if (key && s && r && ss && EC_KEY_set_group(key, p256()) == 1 && EC_KEY_set_public_key(key, pt) == 1 &&
        ECDSA_SIG_set0(s, r, ss) == 1) {
        r = ss = NULL; /* owned by s now */
        int v = ECDSA_do_verify(digest, 32, s, key);
        /* [CRY-006] the signature verifies for SHA-256 of the message */
        rc = v == 1 ? EC_OK : v == 0 ? EC_SIGNATURE_INVALID : EC_INTERNAL_ERROR;
    }
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    EC_KEY_free(key);
    return rc;
}

static int check_signature(const uint8_t *sig, size_t slen) {
    /* [CRY-004] a signature is 64 bytes */
    if (slen != 64) return EC_SIGNATURE_LENGTH;
    /* [CRY-005] r and s lie in [1, N-1] */
    if (!in_scalar_range(sig) || !in_scalar_range(sig + 32)) return EC_SIGNATURE_OUT_OF_RANGE;
    return EC_OK;
}

int ec_ecdsa_verify(const uint8_t *pk, size_t pklen, const uint8_t *msg, size_t mlen, const uint8_t *sig,
                    size_t slen) {
    EC_POINT *pt;
    int rc = decode_point(pk, pklen, &pt);
    if (rc) return rc;
    rc = check_signature(sig, slen);
    if (rc == EC_OK) {
        uint8_t digest[32];
        ec_sha256(msg, mlen, digest);
        rc = verify_digest(pt, digest, sig);
    }
    EC_POINT_free(pt);
    return rc;
}

/* RFC 6979 (HMAC-SHA256) nonce, then r = (kG).x mod N and s = k^-1 (z + r d) mod N with
 * libcrypto's group and bignum arithmetic. */
int ec_ecdsa_sign(const uint8_t *priv, size_t len, const uint8_t *msg, size_t mlen, uint8_t *out64) {
    int rc = private_scalar(priv, len);
    if (rc) return rc;
    const EC_GROUP *g = p256();
    uint8_t h1[32], h1n[32], V[32], K[32], buf[32 + 1 + 32 + 32];
    unsigned int hl;
    ec_sha256(msg, mlen, h1);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *n = BN_bin2bn(P256_N, 32, NULL), *z = BN_bin2bn(h1, 32, NULL), *d = BN_bin2bn(priv, 32, NULL);
    BIGNUM *k = BN_new(), *r = BN_new(), *s = BN_new(), *kinv = BN_new(), *x = BN_new(), *t = BN_new();
    EC_POINT *R = EC_POINT_new(g);
    rc = EC_INTERNAL_ERROR;
    if (!ctx || !n || !z || !d || !k || !r || !s || !kinv || !x || !t || !R) goto done;
    /* bits2octets(h1) = (h1 mod N) as 32 bytes; qlen = hlen = 256 so bits2int is the identity */
    if (!BN_nnmod(t, z, n, ctx) || BN_bn2binpad(t, h1n, 32) != 32) goto done;
    memset(V, 0x01, 32);
    memset(K, 0x00, 32);
    for (int round = 0; round < 2; round++) {
        memcpy(buf, V, 32);
        buf[32] = (uint8_t)round;
        memcpy(buf + 33, priv, 32);
        memcpy(buf + 65, h1n, 32);
        HMAC(EVP_sha256(), K, 32, buf, sizeof buf, K, &hl);
        HMAC(EVP_sha256(), K, 32, V, 32, V, &hl);
    }
    for (int attempt = 0; attempt < 64; attempt++) {
        HMAC(EVP_sha256(), K, 32, V, 32, V, &hl);
        if (in_scalar_range(V)) {
            if (!BN_bin2bn(V, 32, k) || EC_POINT_mul(g, R, k, NULL, NULL, ctx) != 1 ||
                EC_POINT_get_affine_coordinates(g, R, x, NULL, ctx) != 1 || !BN_nnmod(r, x, n, ctx) ||
                !BN_mod_inverse(kinv, k, n, ctx) || !BN_mod_mul(t, r, d, n, ctx) || !BN_mod_add(t, t, z, n, ctx) ||
                !BN_mod_mul(s, kinv, t, n, ctx))
                goto done;
            if (!BN_is_zero(r) && !BN_is_zero(s)) {
                if (BN_bn2binpad(r, out64, 32) == 32 && BN_bn2binpad(s, out64 + 32, 32) == 32) rc = EC_OK;
                goto done;
            }
        }
        memcpy(buf, V, 32);
        buf[32] = 0;
        HMAC(EVP_sha256(), K, 32, buf, 33, K, &hl);
        HMAC(EVP_sha256(), K, 32, V, 32, V, &hl);
    }
done:
    OPENSSL_cleanse(K, sizeof K);
    OPENSSL_cleanse(V, sizeof V);
    BN_clear_free(d);
    BN_clear_free(k);
    BN_clear_free(kinv);
    BN_free(n);
    BN_free(z);
    BN_free(r);
    BN_free(s);
    BN_free(x);
    BN_free(t);
    EC_POINT_free(R);
    BN_CTX_free(ctx);
    return rc;
}

/* -- redeem scripts and programs -------------------------------------------------------------- */

static int check_m_n(int m, int n) {
    /* [CRY-020] a multisig script has 1 <= m <= n and 2 <= n <= 16 */
    if (!(1 <= m && m <= n && 2 <= n && n <= 16)) return EC_MULTISIG_BAD_M_N;
    return EC_OK;
}

static int check_key(const uint8_t *pk, size_t len) {
    EC_POINT *pt;
    int rc = decode_point(pk, len, &pt);
    if (rc == EC_OK) EC_POINT_free(pt);
    return rc;
}

/* Parse a redeem script; when `pts` is given, the decoded key points are kept there (the caller
 * frees them with free_points), so that verification does not decode the keys a second time. */
static int script_parse(const uint8_t *code, size_t len, ec_script *out, EC_POINT **pts) {
    memset(out, 0, sizeof *out);
    EC_POINT *pt;
    if (len == 35 && code[0] == 0x21 && code[34] == 0xAC) {
        int rc = decode_point(code + 1, 33, &pt);
        if (rc) return rc;
        if (pts) pts[0] = pt;
        else EC_POINT_free(pt);
        out->kind = 0;
        out->m = out->n = 1;
        memcpy(out->keys[0], code + 1, 33);
        return EC_OK;
    }
    /* [CRY-021] otherwise a multisig or cross-chain script of at least 71 bytes */
    if (len < 71 || (code[len - 1] != 0xAE && code[len - 1] != 0xAF) || (len - 3) % 34 != 0)
        return EC_SCRIPT_MALFORMED;
    int m = (int)code[0] - 0x50, n = (int)code[len - 2] - 0x50;
    size_t count = (len - 3) / 34;
    int rc = check_m_n(m, n);
    if (rc) return rc;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *chunk = code + 1 + 34 * i;
        /* [CRY-021] n pushes of 33-byte keys, n equal to the key count */
        if (chunk[0] != 0x21 || count != (size_t)n) return EC_SCRIPT_MALFORMED;
        if ((rc = decode_point(chunk + 1, 33, &pt))) return rc;
        if (pts) pts[i] = pt;
        else EC_POINT_free(pt);
        memcpy(out->keys[i], chunk + 1, 33);
    }
    out->kind = code[len - 1] == 0xAF ? 2 : 1;
    out->m = m;
    out->n = n;
    return EC_OK;
}

static void free_points(EC_POINT **pts) {
    for (int j = 0; j < 16; j++) {
        EC_POINT_free(pts[j]);
        pts[j] = NULL;
    }
}

int ec_script_parse(const uint8_t *code, size_t len, ec_script *out) { return script_parse(code, len, out, NULL); }

int ec_script_standard(const uint8_t *pk, size_t len, uint8_t *out35) {
    int rc = check_key(pk, len);
    if (rc) return rc;
    out35[0] = 0x21;
    memcpy(out35 + 1, pk, 33);
    out35[34] = 0xAC;
    return EC_OK;
}

static int key_order(const void *a, const void *b) {
    /* ascending by X as an integer, ties by the compressed bytes */
    int c = memcmp((const uint8_t *)a + 1, (const uint8_t *)b + 1, 32);
    return c ? c : memcmp(a, b, 33);
}

int ec_script_multisig(int m, const uint8_t *keys, const size_t *key_lens, size_t nkeys, int crosschain,
                       uint8_t *out, size_t cap, size_t *outlen) {
    int rc = check_m_n(m, nkeys > 16 ? 17 : (int)nkeys);
    if (rc) return rc;
    uint8_t sorted[16][33];
    size_t off = 0;
    for (size_t i = 0; i < nkeys; i++) {
        if ((rc = check_key(keys + off, key_lens[i]))) return rc;
        memcpy(sorted[i], keys + off, 33);
        off += key_lens[i];
    }
    qsort(sorted, nkeys, 33, key_order);
    size_t need = 3 + 34 * nkeys;
    if (cap < need) return EC_INTERNAL_ERROR;
    out[0] = (uint8_t)(0x50 + m);
    for (size_t i = 0; i < nkeys; i++) {
        out[1 + 34 * i] = 0x21;
        memcpy(out + 2 + 34 * i, sorted[i], 33);
    }
    out[need - 2] = (uint8_t)(0x50 + nkeys);
    out[need - 1] = crosschain ? 0xAF : 0xAE;
    *outlen = need;
    return EC_OK;
}

int ec_program_hash(const uint8_t *code, size_t len, uint8_t *out21) {
    ec_script s;
    int rc = ec_script_parse(code, len, &s);
    if (rc) return rc;
    out21[0] = s.kind == 0 ? 0x21 : s.kind == 1 ? 0x12 : 0x4B;
    return ec_hash160(code, len, out21 + 1);
}

/* verify a parameter against a script whose key points are decoded (pts[0..n-1]) */
static int verify_points(const ec_script *script, EC_POINT *const *pts, const uint8_t *param, size_t plen,
                         const uint8_t *msg, size_t mlen) {
    int rc;
    uint8_t digest[32];
    if (script->kind == 0) {
        /* [CRY-022] one 65-byte signature push */
        if (plen != 65) return EC_PARAMETER_LENGTH;
        rc = check_signature(param + 1, 64);
        if (rc) return rc;
        ec_sha256(msg, mlen, digest);
        return verify_digest(pts[0], digest, param + 1);
    }
    /* [CRY-023] a whole number of 65-byte signature pushes */
    if (plen % 65 != 0) return EC_PARAMETER_LENGTH;
    size_t count = plen / 65;
    /* [CRY-024] at least m signatures */
    if (count < (size_t)script->m) return EC_NOT_ENOUGH_SIGNATURES;
    /* [CRY-025] at most n signatures */
    if (count > (size_t)script->n) return EC_TOO_MANY_SIGNATURES;
    ec_sha256(msg, mlen, digest);
    int matched[16] = {0}, nmatched = 0;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *sig = param + 65 * i + 1;
        if (check_signature(sig, 64) != EC_OK) continue;
        for (int j = 0; j < script->n; j++) {
            int v = verify_digest(pts[j], digest, sig);
            if (v == EC_INTERNAL_ERROR) return v;
            if (v != EC_OK) continue;
            /* [CRY-026] no two signatures match the same key (keys compare by their bytes) */
            for (int q = 0; q < script->n; q++)
                if (matched[q] && memcmp(script->keys[q], script->keys[j], 33) == 0) return EC_DUPLICATE_SIGNATURE;
            matched[j] = 1;
            nmatched++;
            break;
        }
    }
    /* [CRY-027] at least m signatures verify under distinct keys */
    return nmatched < script->m ? EC_NOT_ENOUGH_SIGNATURES : EC_OK;
}

int ec_program_verify(const uint8_t *code, size_t clen, const uint8_t *param, size_t plen, const uint8_t *msg,
                      size_t mlen, ec_script *out) {
    EC_POINT *pts[16] = {0};
    int rc = script_parse(code, clen, out, pts);
    if (rc == EC_OK) rc = verify_points(out, pts, param, plen, msg, mlen);
    free_points(pts);
    return rc;
}

int ec_script_verify(const ec_script *script, const uint8_t *param, size_t plen, const uint8_t *msg, size_t mlen) {
    EC_POINT *pts[16] = {0};
    int rc = EC_OK;
    if (script->n < 1 || script->n > 16 || script->m < 1 || script->m > script->n) return EC_MULTISIG_BAD_M_N;
    for (int j = 0; j < script->n && rc == EC_OK; j++) rc = decode_point(script->keys[j], 33, &pts[j]);
    if (rc == EC_OK) rc = verify_points(script, pts, param, plen, msg, mlen);
    free_points(pts);
    return rc;
}

int ec_runnable_verify(uint8_t prefix, const uint8_t *code, size_t clen, const uint8_t *param, size_t plen,
                       const uint8_t *msg, size_t mlen) {
    EC_POINT *pts[16] = {0};
    ec_script s;
    int rc = EC_TX_SIGNATURE_TYPE;
    if (prefix == 0x21 || prefix == 0x1F || prefix == 0x12 || prefix == 0x4B) {
        if (script_parse(code, clen, &s, pts) == EC_OK) {
            int ok = (prefix == 0x21 || prefix == 0x1F) ? (s.kind == 0 || s.kind == 1)
                     : prefix == 0x12                  ? s.kind == 1
                                                       : (s.kind == 2 && clen >= 71);
            /* [TXC-012] a prefix that signs, with a script it can run */
            if (ok) rc = verify_points(&s, pts, param, plen, msg, mlen);
        }
    }
    free_points(pts);
    return rc;
}

/* -- Ed25519 / X25519 ------------------------------------------------------------------------- */

/* little-endian y coordinates of the small-order points (mod p = 2^255 - 19): 0, 1, p - 1, Y8, p - Y8 */
static const uint8_t SMALL_ORDER_Y[5][32] = {
    {0},
    {1},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
};

static int small_order(const uint8_t *enc) {
    uint8_t y[32];
    memcpy(y, enc, 32);
    y[31] &= 0x7f;
    /* reduce modulo p: y < 2^255, so at most one subtraction of p = 2^255 - 19 */
    int ge_p = y[31] == 0x7f && y[0] >= 0xed;
    for (int i = 1; ge_p && i < 31; i++) ge_p = y[i] == 0xff;
    if (ge_p) {
        y[0] = (uint8_t)(y[0] - 0xed);
        memset(y + 1, 0, 31);
    }
    for (int i = 0; i < 5; i++)
        if (memcmp(y, SMALL_ORDER_Y[i], 32) == 0) return 1;
    return 0;
}

static int key_len_ok(size_t len) {
    /* [CRY-010] an Ed25519 or X25519 key is 32 bytes */
    return len == 32 ? EC_OK : EC_ED25519_KEY_LENGTH;
}

int ec_ed25519_public_key(const uint8_t *seed, size_t len, uint8_t *out32) {
    int rc = key_len_ok(len);
    if (rc) return rc;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    size_t n = 32;
    rc = k && EVP_PKEY_get_raw_public_key(k, out32, &n) == 1 && n == 32 ? EC_OK : EC_INTERNAL_ERROR;
    EVP_PKEY_free(k);
    return rc;
}

int ec_ed25519_sign(const uint8_t *seed, size_t len, const uint8_t *msg, size_t mlen, uint8_t *out64) {
    int rc = key_len_ok(len);
    if (rc) return rc;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = 64;
    rc = k && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
                 EVP_DigestSign(ctx, out64, &n, msg, mlen) == 1 && n == 64
             ? EC_OK
             : EC_INTERNAL_ERROR;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return rc;
}

int ec_ed25519_verify(const uint8_t *pub, size_t plen, const uint8_t *msg, size_t mlen, const uint8_t *sig,
                      size_t slen) {
    int rc = key_len_ok(plen);
    if (rc) return rc;
    /* [CRY-011] an Ed25519 signature is 64 bytes */
    if (slen != 64) return EC_SIGNATURE_LENGTH;
    /* [CRY-014] neither the public key nor R is of small order */
    if (small_order(pub) || small_order(sig)) return EC_ED25519_SMALL_ORDER;
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* [CRY-012] the signature verifies under the public key */
    rc = k && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
                 EVP_DigestVerify(ctx, sig, 64, msg, mlen) == 1
             ? EC_OK
             : EC_SIGNATURE_INVALID;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return rc;
}

int ec_x25519_public_key(const uint8_t *priv, size_t len, uint8_t *out32) {
    int rc = key_len_ok(len);
    if (rc) return rc;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    size_t n = 32;
    rc = k && EVP_PKEY_get_raw_public_key(k, out32, &n) == 1 && n == 32 ? EC_OK : EC_INTERNAL_ERROR;
    EVP_PKEY_free(k);
    return rc;
}

int ec_x25519_shared(const uint8_t *priv, size_t len, const uint8_t *pub, size_t plen, uint8_t *out32) {
    int rc = key_len_ok(len);
    if (rc) return rc;
    if ((rc = key_len_ok(plen))) return rc;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
    EVP_PKEY_CTX *ctx = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    size_t n = 32;
    if (!k || !peer || !ctx) {
        rc = EC_INTERNAL_ERROR;
    } else if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
               EVP_PKEY_derive(ctx, out32, &n) != 1 || n != 32) {
        memset(out32, 0, 32); /* OpenSSL refuses to return the all-zero secret */
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(k);
    if (rc) return rc;
    /* [CRY-013] an X25519 shared secret is not all zeros */
    return is_zero(out32, 32) ? EC_X25519_LOW_ORDER : EC_OK;
}
