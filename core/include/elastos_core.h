/* elastos_core: the optimised C core of the Elastos protocol reference.
 *
 * Every function that can fail returns an `enum ec_reason` (elastos_reasons.h, generated from the
 * spec's Reason enum): EC_OK (0) on success, otherwise the spec's rejection code. Every decoder is
 * bounds-checked against the length it is given; no function reads past its input.
 *
 * The declarations between the CFFI-BEGIN and CFFI-END markers are plain C without preprocessor
 * directives, so that reference/core.py hands them to cffi's cdef unchanged (one declaration of the
 * ABI, never two).
 */
#ifndef ELASTOS_CORE_H
#define ELASTOS_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "elastos_reasons.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CFFI-BEGIN */

/* -- library -------------------------------------------------------------------------------- */
const char *ec_version(void);
const char *ec_reasons_fingerprint(void);
const char *ec_reason_name(int code);
int ec_reason_count(void);

/* -- reader: a bounds-checked cursor (ENC-001, ENC-002) -------------------------------------- */
typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
} ec_reader;

int ec_read(ec_reader *r, size_t n, const uint8_t **out);
int ec_read_u8(ec_reader *r, uint8_t *out);
int ec_read_u16(ec_reader *r, uint16_t *out);
int ec_read_u32(ec_reader *r, uint32_t *out);
int ec_read_u64(ec_reader *r, uint64_t *out);
int ec_read_varuint(ec_reader *r, uint64_t *out);
int ec_read_varbytes(ec_reader *r, uint64_t max, const uint8_t **data, size_t *len);
int ec_finish(ec_reader *r);
size_t ec_varuint_encode(uint64_t value, uint8_t *out9);

/* -- hashes (OpenSSL libcrypto) -------------------------------------------------------------- */
void ec_sha256(const uint8_t *data, size_t len, uint8_t *out32);
void ec_sha256d(const uint8_t *data, size_t len, uint8_t *out32);
int ec_ripemd160(const uint8_t *data, size_t len, uint8_t *out20);
int ec_hash160(const uint8_t *data, size_t len, uint8_t *out20);

/* -- base58, base58check, addresses ---------------------------------------------------------- */
/* text is UTF-8; `out` needs 2 * len + 1 bytes (encode) or `len` bytes (decode) */
int ec_b58_encode(const uint8_t *data, size_t len, char *out, size_t cap, size_t *outlen);
int ec_b58_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *outlen);
int ec_b58check_encode(const uint8_t *payload, size_t len, char *out, size_t cap, size_t *outlen);
int ec_b58check_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *outlen);
int ec_address_encode(const uint8_t *program_hash, size_t len, char *out35);
int ec_address_decode(const char *text, size_t len, uint8_t *out21);
const char *ec_prefix_name(int prefix);

/* -- P-256 ECDSA and redeem scripts (OpenSSL libcrypto) ---------------------------------------- */
typedef struct {
    int kind;              /* 0 standard, 1 multisig, 2 crosschain */
    int m;
    int n;
    uint8_t keys[16][33];
} ec_script;

int ec_p256_decode(const uint8_t *pubkey, size_t len, uint8_t *x32, uint8_t *y32);
int ec_p256_public_from_private(const uint8_t *priv, size_t len, uint8_t *out33);
int ec_ecdsa_sign(const uint8_t *priv, size_t len, const uint8_t *msg, size_t mlen, uint8_t *out64);
int ec_ecdsa_verify(const uint8_t *pubkey, size_t pklen, const uint8_t *msg, size_t mlen,
                    const uint8_t *sig, size_t siglen);
int ec_script_parse(const uint8_t *code, size_t len, ec_script *out);
int ec_script_standard(const uint8_t *pubkey, size_t len, uint8_t *out35);
int ec_script_multisig(int m, const uint8_t *keys, const size_t *key_lens, size_t nkeys, int crosschain,
                       uint8_t *out, size_t cap, size_t *outlen);
int ec_program_verify(const uint8_t *code, size_t clen, const uint8_t *param, size_t plen,
                      const uint8_t *msg, size_t mlen, ec_script *out);
/* verify a parameter against an already parsed script (keys are decoded again here) */
int ec_script_verify(const ec_script *script, const uint8_t *param, size_t plen, const uint8_t *msg, size_t mlen);
int ec_program_hash(const uint8_t *code, size_t len, uint8_t *out21);

/* -- Ed25519 and X25519 (OpenSSL libcrypto) ------------------------------------------------- */
int ec_ed25519_public_key(const uint8_t *seed, size_t len, uint8_t *out32);
int ec_ed25519_sign(const uint8_t *seed, size_t len, const uint8_t *msg, size_t mlen, uint8_t *out64);
int ec_ed25519_verify(const uint8_t *pub, size_t plen, const uint8_t *msg, size_t mlen,
                      const uint8_t *sig, size_t slen);
int ec_x25519_public_key(const uint8_t *priv, size_t len, uint8_t *out32);
int ec_x25519_shared(const uint8_t *priv, size_t len, const uint8_t *pub, size_t plen, uint8_t *out32);

/* -- deterministic CBOR: decode to typed JSON text ------------------------------------------- */
/* On EC_OK, *json is a malloc'd NUL-terminated typed-JSON text (free with ec_free). */
int ec_cbor_decode_json(const uint8_t *data, size_t len, char **json, size_t *jlen);
void ec_free(void *p);

/* CFFI-END */

#ifdef __cplusplus
}
#endif

#endif /* ELASTOS_CORE_H */
