/* The crypto suite's handlers (conformance/bindings.py, "crypto suite"). */
#include <string.h>

#include "adapter.h"

#define DIGEST_HANDLER(fname, key, call, size)                                             \
    static int fname(arena *a, const jv *in, ec_buf *out) {                                \
        uint8_t *b, d[32];                                                                 \
        size_t n;                                                                          \
        SHAPE(in, "data");                                                                 \
        TRY(in_hex(a, in, "data", &b, &n));                                                \
        call;                                                                              \
        out_hex_field(out, 1, key, d, size);                                               \
        return EC_OK;                                                                      \
    }

DIGEST_HANDLER(h_sha256, "digest", ec_sha256(b, n, d), 32)
DIGEST_HANDLER(h_sha256d, "digest", ec_sha256d(b, n, d), 32)
DIGEST_HANDLER(h_ripemd160, "digest", TRY(ec_ripemd160(b, n, d)), 20)
DIGEST_HANDLER(h_hash160, "digest", TRY(ec_hash160(b, n, d)), 20)

static int h_pubkey_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b, x[32], y[32];
    size_t n;
    SHAPE(in, "pubkey");
    TRY(in_hex(a, in, "pubkey", &b, &n));
    TRY(ec_p256_decode(b, n, x, y));
    out_hex_field(out, 1, "x", x, 32);
    out_hex_field(out, 0, "y", y, 32);
    return EC_OK;
}

static int h_pubkey_from_private(arena *a, const jv *in, ec_buf *out) {
    uint8_t *b, pk[33];
    size_t n;
    SHAPE(in, "private_key");
    TRY(in_hex(a, in, "private_key", &b, &n));
    TRY(ec_p256_public_from_private(b, n, pk));
    out_hex_field(out, 1, "pubkey", pk, 33);
    return EC_OK;
}

static int h_ecdsa_sign(arena *a, const jv *in, ec_buf *out) {
    uint8_t *k, *m, sig[64];
    size_t kn, mn;
    SHAPE(in, "private_key", "message");
    TRY(in_hex(a, in, "private_key", &k, &kn));
    TRY(in_hex(a, in, "message", &m, &mn));
    TRY(ec_ecdsa_sign(k, kn, m, mn, sig));
    out_hex_field(out, 1, "signature", sig, 64);
    return EC_OK;
}

static int h_ecdsa_verify(arena *a, const jv *in, ec_buf *out) {
    uint8_t *k, *m, *s;
    size_t kn, mn, sn;
    (void)out;
    SHAPE(in, "pubkey", "message", "signature");
    TRY(in_hex(a, in, "pubkey", &k, &kn));
    TRY(in_hex(a, in, "message", &m, &mn));
    TRY(in_hex(a, in, "signature", &s, &sn));
    return ec_ecdsa_verify(k, kn, m, mn, s, sn);
}

static const char *const KIND[] = {"standard", "multisig", "crosschain"};

static int script_json(const uint8_t *code, size_t n, ec_buf *out) {
    ec_script s;
    uint8_t ph[21];
    char addr[36];
    TRY(ec_script_parse(code, n, &s));
    TRY(ec_program_hash(code, n, ph));
    TRY(ec_address_encode(ph, 21, addr));
    out_hex_field(out, 1, "code", code, n);
    out_str_field(out, 0, "kind", KIND[s.kind]);
    out_int_field(out, 0, "m", s.m);
    out_int_field(out, 0, "n", s.n);
    out_key(out, 0, "pubkeys");
    ec_buf_putc(out, '[');
    for (int i = 0; i < s.n; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '"');
        ec_buf_hex(out, s.keys[i], 33);
        ec_buf_putc(out, '"');
    }
    ec_buf_putc(out, ']');
    out_hex_field(out, 0, "program_hash", ph, 21);
    out_str_field(out, 0, "address", addr);
    return EC_OK;
}

static int h_redeem_script_standard(arena *a, const jv *in, ec_buf *out) {
    uint8_t *k, code[35];
    size_t kn;
    SHAPE(in, "pubkey");
    TRY(in_hex(a, in, "pubkey", &k, &kn));
    TRY(ec_script_standard(k, kn, code));
    return script_json(code, 35, out);
}

static int h_redeem_script_multisig(arena *a, const jv *in, ec_buf *out) {
    static const char *const req[] = {"m", "pubkeys", NULL}, *const opt[] = {"kind", NULL};
    long long m;
    TRY(in_shape(in, req, opt));
    int crosschain = 0;
    const jv *kind = json_get(in, "kind");
    const jv *keys = json_get(in, "pubkeys");
    TRY(in_small_int(in, "m", 0, 255, &m));
    if (kind) {
        if (kind->type != J_STR) return EC_MALFORMED_INPUT;
        if (strcmp(kind->s, "crosschain") == 0 && kind->n == 10) crosschain = 1;
        else if (!(strcmp(kind->s, "multisig") == 0 && kind->n == 8)) return EC_MALFORMED_INPUT;
    }
    if (keys->type != J_ARR) return EC_MALFORMED_INPUT;
    size_t nk = keys->n, total = 0;
    uint8_t **parts = arena_alloc(a, (nk + 1) * sizeof *parts);
    size_t *lens = arena_alloc(a, (nk + 1) * sizeof *lens);
    if (!parts || !lens) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < nk; i++) {
        const jv *k = &keys->items[i];
        if (k->type != J_STR) return EC_MALFORMED_INPUT;
        TRY(hex_decode(a, k->s, k->n, &parts[i], &lens[i]));
        total += lens[i];
    }
    /* [CRY-020] is checked first on the count alone, as the spec does */
    if (nk > 16 || nk < 2 || m < 1 || (size_t)m > nk) return EC_MULTISIG_BAD_M_N;
    uint8_t *flat = arena_alloc(a, total + 1);
    if (!flat) return EC_INTERNAL_ERROR;
    size_t off = 0;
    for (size_t i = 0; i < nk; i++) {
        memcpy(flat + off, parts[i], lens[i]);
        off += lens[i];
    }
    uint8_t code[3 + 34 * 16];
    size_t cn;
    TRY(ec_script_multisig((int)m, flat, lens, nk, crosschain, code, sizeof code, &cn));
    return script_json(code, cn, out);
}

static int h_redeem_script_parse(arena *a, const jv *in, ec_buf *out) {
    uint8_t *c;
    size_t cn;
    SHAPE(in, "code");
    TRY(in_hex(a, in, "code", &c, &cn));
    return script_json(c, cn, out);
}

static int h_program_verify(arena *a, const jv *in, ec_buf *out) {
    uint8_t *c, *p, *m;
    size_t cn, pn, mn;
    ec_script s;
    SHAPE(in, "code", "parameter", "message");
    TRY(in_hex(a, in, "code", &c, &cn));
    TRY(in_hex(a, in, "parameter", &p, &pn));
    TRY(in_hex(a, in, "message", &m, &mn));
    TRY(ec_program_verify(c, cn, p, pn, m, mn, &s));
    out_str_field(out, 1, "kind", KIND[s.kind]);
    out_int_field(out, 0, "m", s.m);
    out_int_field(out, 0, "n", s.n);
    return EC_OK;
}

static int h_ed25519_public_key(arena *a, const jv *in, ec_buf *out) {
    uint8_t *s, pk[32];
    size_t n;
    SHAPE(in, "seed");
    TRY(in_hex(a, in, "seed", &s, &n));
    TRY(ec_ed25519_public_key(s, n, pk));
    out_hex_field(out, 1, "public_key", pk, 32);
    return EC_OK;
}

static int h_ed25519_sign(arena *a, const jv *in, ec_buf *out) {
    uint8_t *s, *m, sig[64];
    size_t n, mn;
    SHAPE(in, "seed", "message");
    TRY(in_hex(a, in, "seed", &s, &n));
    TRY(in_hex(a, in, "message", &m, &mn));
    TRY(ec_ed25519_sign(s, n, m, mn, sig));
    out_hex_field(out, 1, "signature", sig, 64);
    return EC_OK;
}

static int h_ed25519_verify(arena *a, const jv *in, ec_buf *out) {
    uint8_t *k, *m, *s;
    size_t kn, mn, sn;
    (void)out;
    SHAPE(in, "public_key", "message", "signature");
    TRY(in_hex(a, in, "public_key", &k, &kn));
    TRY(in_hex(a, in, "message", &m, &mn));
    TRY(in_hex(a, in, "signature", &s, &sn));
    return ec_ed25519_verify(k, kn, m, mn, s, sn);
}

static int h_x25519_public_key(arena *a, const jv *in, ec_buf *out) {
    uint8_t *s, pk[32];
    size_t n;
    SHAPE(in, "private_key");
    TRY(in_hex(a, in, "private_key", &s, &n));
    TRY(ec_x25519_public_key(s, n, pk));
    out_hex_field(out, 1, "public_key", pk, 32);
    return EC_OK;
}

static int h_x25519_shared(arena *a, const jv *in, ec_buf *out) {
    uint8_t *s, *p, sh[32];
    size_t n, pn;
    SHAPE(in, "private_key", "public_key");
    TRY(in_hex(a, in, "private_key", &s, &n));
    TRY(in_hex(a, in, "public_key", &p, &pn));
    TRY(ec_x25519_shared(s, n, p, pn, sh));
    out_hex_field(out, 1, "shared", sh, 32);
    return EC_OK;
}

const handler_entry crypto_handlers[] = {
    {"crypto/ecdsa_sign", h_ecdsa_sign},
    {"crypto/ecdsa_verify", h_ecdsa_verify},
    {"crypto/ed25519_public_key", h_ed25519_public_key},
    {"crypto/ed25519_sign", h_ed25519_sign},
    {"crypto/ed25519_verify", h_ed25519_verify},
    {"crypto/hash160", h_hash160},
    {"crypto/program_verify", h_program_verify},
    {"crypto/pubkey_decode", h_pubkey_decode},
    {"crypto/pubkey_from_private", h_pubkey_from_private},
    {"crypto/redeem_script_multisig", h_redeem_script_multisig},
    {"crypto/redeem_script_parse", h_redeem_script_parse},
    {"crypto/redeem_script_standard", h_redeem_script_standard},
    {"crypto/ripemd160", h_ripemd160},
    {"crypto/sha256", h_sha256},
    {"crypto/sha256d", h_sha256d},
    {"crypto/x25519_public_key", h_x25519_public_key},
    {"crypto/x25519_shared", h_x25519_shared},
    {NULL, NULL},
};
