/* ELA chain codecs and checks: transactions (TXE-001..008), headers, AuxPoW (AUX-001..011),
 * blocks, merkle roots (MRK-001..002), compact bits and retarget (POW-001..004), transaction and
 * block sanity (TX-001..018, BLK-001..011). Every decoder reads through the bounds-checked
 * ec_reader; decoded structures point into the caller's buffer, which must outlive them. */
#include "internal.h"
#include "elastos_tables.h"

#include <openssl/bn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x)                \
    do {                      \
        int rc_ = (x);        \
        if (rc_) return rc_;  \
    } while (0)

static int in_table(const uint8_t *t, int n, int code) {
    for (int i = 0; i < n; i++)
        if (t[i] == code) return 1;
    return 0;
}
#define IN(table, code) in_table(table, table##_COUNT, (code))

#define MAX_VAR_STRING (16u * 1024u * 1024u)
#define MAX_PAYLOAD_DATA (1024u * 1024u)
#define MAX_PROGRAM_CODE 10000u
#define MAX_PROGRAM_PARAMETER 20000u
#define MAX_TARGET_DATA 1024u
#define MAX_VOTE_CANDIDATE 34003u
#define MAX_SCRIPT_SIZE 10000u

/* growable arrays of the decoded structures */
static int grow_array(void **p, size_t *cap, size_t n, size_t size) {
    if (n < *cap) return EC_OK;
    size_t c = *cap ? 2 * *cap : 4;
    void *q = realloc(*p, c * size);
    if (!q) return EC_INTERNAL_ERROR;
    *p = q;
    *cap = c;
    return EC_OK;
}

static int read_i64(ec_reader *r, int64_t *out) {
    uint64_t v;
    TRY(ec_read_u64(r, &v));
    *out = (int64_t)v;
    return EC_OK;
}

static int skip(ec_reader *r, size_t n) { return ec_read(r, n, NULL); }

static int skip_varbytes(ec_reader *r, uint64_t max) {
    const uint8_t *d;
    size_t n;
    return ec_read_varbytes(r, max, &d, &n);
}

/* -- transactions ----------------------------------------------------------------------------- */

int ec_check_tx_type(int code) {
    /* [TXE-003] Deploy and RechargeToSideChain do not exist on the main chain */
    if (IN(EC_TX_TYPES_FORBIDDEN, code)) return EC_TX_TYPE_FORBIDDEN;
    /* [TXE-004] the type belongs to the proof-of-work profile */
    if (IN(EC_TX_TYPES_LATER_PROFILE, code)) return EC_TX_TYPE_NOT_IN_PROFILE;
    /* [TXE-002] the type is a code of upstream's table */
    if (!IN(EC_TX_TYPES, code)) return EC_TX_TYPE_UNKNOWN;
    return EC_OK;
}

static int read_payload(ec_reader *r, ec_tx *tx) {
    int v = tx->payload_version;
    uint8_t u8;
    switch (tx->type) {
    case 0x00: /* CoinBase */
        return skip_varbytes(r, MAX_PAYLOAD_DATA);
    case 0x01: { /* RegisterAsset */
        const uint8_t *p;
        TRY(skip_varbytes(r, MAX_VAR_STRING));
        TRY(skip_varbytes(r, MAX_VAR_STRING));
        TRY(ec_read(r, 3, &p));
        tx->asset_precision = p[0];
        TRY(read_i64(r, &tx->asset_amount));
        return skip(r, 21);
    }
    case 0x02: /* TransferAsset */
        return EC_OK;
    case 0x03: /* Record */
        TRY(skip_varbytes(r, MAX_VAR_STRING));
        return skip_varbytes(r, MAX_PAYLOAD_DATA);
    case 0x05: /* SideChainPow */
        TRY(skip(r, 32 + 32 + 4));
        return skip_varbytes(r, MAX_PAYLOAD_DATA);
    case 0x07: { /* WithdrawFromSideChain */
        if (v == 1) return EC_OK;
        uint64_t n;
        TRY(skip(r, 4));
        TRY(skip_varbytes(r, MAX_VAR_STRING));
        TRY(ec_read_varuint(r, &n));
        /* a huge count fails at the first missing hash, as the spec's loop does */
        if (n > (r->len - r->pos) / 32) {
            skip(r, (r->len - r->pos) / 32 * 32);
            return EC_TRUNCATED;
        }
        tx->sidechain_hashes = r->data + r->pos;
        tx->n_sidechain_hashes = (size_t)n;
        return skip(r, (size_t)n * 32);
    }
    case 0x08: { /* TransferCrossChainAsset */
        if (v == 1) return EC_OK;
        uint64_t n, idx;
        TRY(ec_read_varuint(r, &n));
        for (uint64_t i = 0; i < n; i++) {
            TRY(skip_varbytes(r, MAX_VAR_STRING));
            TRY(ec_read_varuint(r, &idx));
            TRY(skip(r, 8));
        }
        return EC_OK;
    }
    default:
        (void)u8;
        return EC_TX_TYPE_UNKNOWN;
    }
}

static int check_output_type(int code) {
    if (IN(EC_OUTPUT_TYPES, code)) return EC_OK;
    /* [TXE-008] the output type belongs to the proof-of-work profile */
    if (IN(EC_OUTPUT_TYPES_LATER_PROFILE, code)) return EC_OUTPUT_TYPE_NOT_IN_PROFILE;
    /* [TXE-007] the output type is a code of upstream's table */
    return EC_OUTPUT_TYPE_UNKNOWN;
}

static int read_output_payload(ec_reader *r, int type) {
    uint8_t version;
    switch (type) {
    case 1: { /* OTVote */
        uint64_t contents, cands;
        TRY(ec_read_u8(r, &version));
        TRY(ec_read_varuint(r, &contents));
        for (uint64_t i = 0; i < contents; i++) {
            TRY(skip(r, 1));
            TRY(ec_read_varuint(r, &cands));
            for (uint64_t j = 0; j < cands; j++) {
                TRY(skip_varbytes(r, MAX_VOTE_CANDIDATE));
                if (version >= 1) TRY(skip(r, 8));
            }
        }
        return EC_OK;
    }
    case 3: /* OTCrossChain */
        TRY(skip(r, 1));
        TRY(skip_varbytes(r, MAX_VAR_STRING));
        TRY(skip(r, 8));
        return skip_varbytes(r, MAX_TARGET_DATA);
    case 4: /* OTWithdrawFromSideChain */
        TRY(skip(r, 1));
        TRY(skip_varbytes(r, MAX_VAR_STRING));
        TRY(skip(r, 32));
        return skip_varbytes(r, MAX_TARGET_DATA);
    case 5: /* OTReturnSideChainDepositCoin */
        TRY(skip(r, 1));
        TRY(skip_varbytes(r, MAX_VAR_STRING));
        return skip(r, 32);
    default: /* OTNone */
        return EC_OK;
    }
}

static int tx_parse(ec_reader *r, ec_tx *tx) {
    size_t start = r->pos;
    uint8_t first, code;
    uint64_t n;
    const uint8_t *p;
    tx->data = r->data + start;
    TRY(ec_read_u8(r, &first));
    if (first >= 0x09) {
        tx->version = first;
        TRY(ec_read_u8(r, &code));
    } else {
        tx->version = 0;
        code = first;
    }
    TRY(ec_check_tx_type(code));
    tx->type = code;
    TRY(ec_read_u8(r, &tx->payload_version));
    /* [TXE-005] versioned payloads have a known version */
    if ((code == 0x07 || code == 0x08) && tx->payload_version > 1) return EC_PAYLOAD_VERSION_UNKNOWN;
    size_t payload_at = r->pos;
    TRY(read_payload(r, tx));
    tx->payload = r->data + payload_at;
    tx->payload_len = r->pos - payload_at;
    TRY(ec_read_varuint(r, &n));
    for (uint64_t i = 0; i < n; i++) {
        uint8_t usage;
        TRY(ec_read_u8(r, &usage));
        /* [TXE-006] an attribute's usage is one of the six codes */
        if (!IN(EC_ATTRIBUTE_USAGES, usage)) return EC_ATTRIBUTE_USAGE_UNKNOWN;
        TRY(grow_array((void **)&tx->attributes, &tx->cap_attributes, tx->n_attributes, sizeof *tx->attributes));
        ec_attribute *a = &tx->attributes[tx->n_attributes];
        a->usage = usage;
        TRY(ec_read_varbytes(r, MAX_VAR_STRING, &a->data, &a->len));
        tx->n_attributes++;
    }
    TRY(ec_read_varuint(r, &n));
    for (uint64_t i = 0; i < n; i++) {
        TRY(grow_array((void **)&tx->inputs, &tx->cap_inputs, tx->n_inputs, sizeof *tx->inputs));
        ec_input *in = &tx->inputs[tx->n_inputs];
        TRY(ec_read(r, 32, &in->txid));
        TRY(ec_read_u16(r, &in->index));
        TRY(ec_read_u32(r, &in->sequence));
        tx->n_inputs++;
    }
    TRY(ec_read_varuint(r, &n));
    for (uint64_t i = 0; i < n; i++) {
        TRY(grow_array((void **)&tx->outputs, &tx->cap_outputs, tx->n_outputs, sizeof *tx->outputs));
        ec_output *o = &tx->outputs[tx->n_outputs];
        TRY(ec_read(r, 32, &o->asset_id));
        TRY(read_i64(r, &o->value));
        TRY(ec_read_u32(r, &o->output_lock));
        TRY(ec_read(r, 21, &o->program_hash));
        o->type = 0;
        o->payload = NULL;
        o->payload_len = 0;
        if (tx->version >= 0x09) {
            TRY(ec_read_u8(r, &o->type));
            TRY(check_output_type(o->type));
            size_t at = r->pos;
            TRY(read_output_payload(r, o->type));
            o->payload = r->data + at;
            o->payload_len = r->pos - at;
        }
        tx->n_outputs++;
    }
    TRY(ec_read_u32(r, &tx->lock_time));
    tx->unsigned_len = r->pos - start;
    ec_sha256d(tx->data, tx->unsigned_len, tx->txid);
    TRY(ec_read_varuint(r, &n));
    for (uint64_t i = 0; i < n; i++) {
        TRY(grow_array((void **)&tx->programs, &tx->cap_programs, tx->n_programs, sizeof *tx->programs));
        ec_program *pg = &tx->programs[tx->n_programs];
        TRY(ec_read_varbytes(r, MAX_PROGRAM_PARAMETER, &pg->parameter, &pg->parameter_len));
        TRY(ec_read_varbytes(r, MAX_PROGRAM_CODE, &pg->code, &pg->code_len));
        tx->n_programs++;
    }
    tx->size = r->pos - start;
    (void)p;
    return EC_OK;
}

void ec_tx_free(ec_tx *tx) {
    free(tx->attributes);
    free(tx->inputs);
    free(tx->outputs);
    free(tx->programs);
    memset(tx, 0, sizeof *tx);
}

int ec_tx_read(ec_reader *r, ec_tx *tx) {
    memset(tx, 0, sizeof *tx);
    int rc = tx_parse(r, tx);
    if (rc) ec_tx_free(tx); /* a failed decoding owns nothing */
    return rc;
}

int ec_tx_decode(const uint8_t *data, size_t len, ec_tx *tx) {
    ec_reader r = {data, len, 0};
    int rc = ec_tx_read(&r, tx);
    if (rc == EC_OK && (rc = ec_finish(&r)) != EC_OK) ec_tx_free(tx);
    return rc;
}

/* -- AuxPoW and headers ----------------------------------------------------------------------- */

static int read_hashes(ec_reader *r, const uint8_t **first, size_t *count) {
    uint64_t n;
    TRY(ec_read_varuint(r, &n));
    *first = r->data + r->pos;
    /* each hash is bounds-checked: a huge count fails at the first missing hash */
    if (n > (r->len - r->pos) / 32) {
        skip(r, (r->len - r->pos) / 32 * 32);
        return EC_TRUNCATED;
    }
    *count = (size_t)n;
    return skip(r, (size_t)n * 32);
}

int ec_auxpow_read(ec_reader *r, ec_auxpow *a) {
    uint64_t n;
    memset(a, 0, sizeof *a);
    size_t start = r->pos;
    /* the parent coinbase (Bitcoin's legacy layout) */
    TRY(skip(r, 4));
    TRY(ec_read_varuint(r, &n));
    a->n_tx_in = n;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *script;
        size_t slen;
        TRY(skip(r, 32 + 4));
        TRY(ec_read_varbytes(r, MAX_SCRIPT_SIZE, &script, &slen));
        TRY(skip(r, 4));
        if (i == 0) {
            a->script = script;
            a->script_len = slen;
        }
    }
    TRY(ec_read_varuint(r, &n));
    for (uint64_t i = 0; i < n; i++) {
        TRY(skip(r, 8));
        TRY(skip_varbytes(r, MAX_SCRIPT_SIZE));
    }
    TRY(skip(r, 4));
    ec_sha256d(r->data + start, r->pos - start, a->coinbase_hash);
    TRY(skip(r, 32)); /* parent_hash: carried, never checked */
    TRY(read_hashes(r, &a->coinbase_branch, &a->n_coinbase_branch));
    TRY(ec_read_u32(r, &a->coinbase_index));
    TRY(read_hashes(r, &a->aux_branch, &a->n_aux_branch));
    TRY(ec_read_u32(r, &a->aux_index));
    TRY(ec_read(r, 80, &a->parent_header));
    ec_sha256d(a->parent_header, 80, a->parent_header_hash);
    a->size = r->pos - start;
    return EC_OK;
}

int ec_auxpow_decode(const uint8_t *data, size_t len, ec_auxpow *a) {
    ec_reader r = {data, len, 0};
    TRY(ec_auxpow_read(&r, a));
    return ec_finish(&r);
}

int ec_header_read(ec_reader *r, ec_header *h) {
    const uint8_t *base;
    memset(h, 0, sizeof *h);
    size_t start = r->pos;
    TRY(ec_read_u32(r, &h->version));
    TRY(ec_read(r, 32, &h->previous));
    TRY(ec_read(r, 32, &h->merkle_root));
    TRY(ec_read_u32(r, &h->timestamp));
    TRY(ec_read_u32(r, &h->bits));
    TRY(ec_read_u32(r, &h->nonce));
    TRY(ec_read_u32(r, &h->height));
    base = r->data + start;
    ec_sha256d(base, 84, h->hash);
    TRY(ec_auxpow_read(r, &h->auxpow));
    TRY(ec_read_u8(r, &h->trailer));
    h->size = r->pos - start;
    return EC_OK;
}

/* -- blocks ----------------------------------------------------------------------------------- */

void ec_block_free(ec_block *b) {
    for (size_t i = 0; i < b->n_txs; i++) ec_tx_free(&b->txs[i]);
    free(b->txs);
    memset(b, 0, sizeof *b);
}

int ec_block_decode(const uint8_t *data, size_t len, ec_block *b) {
    ec_reader r = {data, len, 0};
    uint32_t count;
    size_t cap = 0;
    memset(b, 0, sizeof *b);
    int rc = ec_header_read(&r, &b->header);
    if (rc == EC_OK) rc = ec_read_u32(&r, &count);
    for (uint32_t i = 0; rc == EC_OK && i < count; i++) {
        rc = grow_array((void **)&b->txs, &cap, b->n_txs, sizeof *b->txs);
        if (rc == EC_OK) {
            rc = ec_tx_read(&r, &b->txs[b->n_txs]);
            b->n_txs++; /* counted even on failure, so that ec_block_free releases it */
        }
    }
    if (rc == EC_OK) rc = ec_finish(&r);
    b->size = r.pos;
    if (rc) ec_block_free(b);
    return rc;
}

/* -- merkle trees ----------------------------------------------------------------------------- */

static void parent(const uint8_t *left, const uint8_t *right, uint8_t *out) {
    uint8_t buf[64];
    memcpy(buf, left, 32);
    memcpy(buf + 32, right, 32);
    ec_sha256d64(buf, out);
}

int ec_merkle_root_in_place(uint8_t *level, size_t n, uint8_t *out32) {
    /* [MRK-001] a merkle root is computed over at least one hash */
    if (n == 0) return EC_MERKLE_EMPTY;
#ifdef EC_SHANI
    /* the larger levels in the AVX-512 code's own layout (sha256_avx512.c), down to fewer than eight pairs */
    if ((n + 1) / 2 >= AVX512_MIN && ec_sha256d64_selected() == 2) n = ec_merkle_levels_avx512(level, n);
#endif
    while (n > 1) {
        if (n % 2) {
            memcpy(level + 32 * n, level + 32 * (n - 1), 32);
            n++;
        }
        /* a pair is 64 contiguous bytes of the level: the level is hashed in place, no copy */
        ec_sha256d64_many(level, level, n / 2);
        n /= 2;
    }
    memcpy(out32, level, 32);
    return EC_OK;
}

int ec_merkle_root(const uint8_t *hashes, size_t n, uint8_t *out32) {
    if (n == 0) return ec_merkle_root_in_place(NULL, 0, out32);
    uint8_t *level = malloc(32 * (n + 1));
    if (!level) return EC_INTERNAL_ERROR;
    memcpy(level, hashes, 32 * n);
    int rc = ec_merkle_root_in_place(level, n, out32);
    free(level);
    return rc;
}

int ec_merkle_branch(const uint8_t *hashes, size_t n, uint64_t index, uint8_t *out, size_t *out_n) {
    /* [MRK-002] a branch is made only for a leaf the tree holds */
    if (index >= n) return EC_MERKLE_INDEX_OUT_OF_RANGE;
    uint8_t *level = malloc(32 * (n + 1));
    if (!level) return EC_INTERNAL_ERROR;
    memcpy(level, hashes, 32 * n);
    size_t i = (size_t)index, k = 0;
    while (n > 1) {
        size_t sibling = i ^ 1;
        memcpy(out + 32 * k++, level + 32 * (sibling < n ? sibling : i), 32);
        if (n % 2) {
            memcpy(level + 32 * n, level + 32 * (n - 1), 32);
            n++;
        }
        for (size_t j = 0; j < n / 2; j++) parent(level + 64 * j, level + 64 * j + 32, level + 32 * j);
        n /= 2;
        i >>= 1;
    }
    *out_n = k;
    free(level);
    return EC_OK;
}

void ec_merkle_branch_root(const uint8_t *leaf, const uint8_t *branch, size_t n, uint32_t index, uint8_t *out32) {
    uint8_t node[32];
    memcpy(node, leaf, 32);
    for (size_t i = 0; i < n; i++) {
        if (index & 1) parent(branch + 32 * i, node, node);
        else parent(node, branch + 32 * i, node);
        index >>= 1;
    }
    memcpy(out32, node, 32);
}

/* -- the AuxPoW check ------------------------------------------------------------------------- */

int ec_expected_index(uint32_t nonce, uint32_t chain_id, uint64_t h, uint32_t *out) {
    /* [AUX-011] an expected index exists only for a branch shorter than 32 hashes */
    uint32_t shift = (uint32_t)h;
    if (shift >= 32) return EC_AUXPOW_BRANCH_TOO_LONG;
    uint32_t r = nonce * 1103515245u + 12345u;
    r += chain_id;
    r = r * 1103515245u + 12345u;
    *out = r % (1u << shift);
    return EC_OK;
}

/* position of `needle` (hex nibbles) in the nibble string of `s`, from nibble `from`; -1 if absent */
static long find_nibbles(const uint8_t *s, size_t len, const uint8_t *needle, size_t nlen, size_t from) {
    size_t total = 2 * len;
    if (nlen > total) return -1;
    for (size_t i = from; i + nlen <= total; i++) {
        size_t k = 0;
        for (; k < nlen; k++) {
            size_t j = i + k;
            uint8_t nib = (j & 1) ? (s[j >> 1] & 0x0F) : (s[j >> 1] >> 4);
            if (nib != needle[k]) break;
        }
        if (k == nlen) return (long)i;
    }
    return -1;
}

int ec_auxpow_check(const ec_auxpow *a, const uint8_t *block_hash, uint32_t chain_id) {
    static const uint8_t MAGIC[8] = {0xf, 0xa, 0xb, 0xe, 0x6, 0xd, 0x6, 0xd};
    uint8_t root[32], rev[32], needle[64];
    ec_merkle_branch_root(a->coinbase_hash, a->coinbase_branch, a->n_coinbase_branch, a->coinbase_index, root);
    /* [AUX-001] the coinbase branch leads to the parent header's merkle root */
    if (memcmp(root, a->parent_header + 36, 32) != 0) return EC_AUXPOW_PARENT_MERKLE_MISMATCH;
    for (int i = 0; i < 32; i++) rev[i] = block_hash[31 - i];
    ec_merkle_branch_root(rev, a->aux_branch, a->n_aux_branch, a->aux_index, root);
    for (int i = 0; i < 32; i++) {
        needle[2 * i] = root[31 - i] >> 4;
        needle[2 * i + 1] = root[31 - i] & 0x0F;
    }
    /* [AUX-002] the parent coinbase has an input (upstream would panic) */
    if (a->n_tx_in == 0) return EC_AUXPOW_NO_COINBASE_INPUT;
    const uint8_t *script = a->script;
    size_t len = a->script_len;
    long hi = find_nibbles(script, len, MAGIC, 8, 0);
    long ri = find_nibbles(script, len, needle, 64, 0);
    /* [AUX-003] the magic occurs in the script's hex */
    if (hi < 0) return EC_AUXPOW_MAGIC_MISSING;
    /* [AUX-004] the reversed aux root occurs in the script's hex */
    if (ri < 0) return EC_AUXPOW_ROOT_MISSING;
    /* [AUX-005] the magic does not occur again after the first occurrence */
    if (find_nibbles(script, len, MAGIC, 8, (size_t)hi + 2) >= 0) return EC_AUXPOW_MAGIC_REPEATED;
    /* [AUX-006] the root's first occurrence follows the magic immediately */
    if (hi + 8 != ri) return EC_AUXPOW_ROOT_NOT_AFTER_MAGIC;
    ri += 64;
    /* [AUX-007] at least 8 hex digits follow the root */
    if ((long)(2 * len) - ri < 8) return EC_AUXPOW_SCRIPT_TOO_SHORT;
    size_t at = (size_t)ri / 2;
    uint32_t size = 0;
    for (int i = 3; i >= 0; i--) size = (size << 8) | (at + (size_t)i < len ? script[at + (size_t)i] : 0);
    uint64_t height = a->n_aux_branch;
    uint32_t shift = (uint32_t)height, expected_size = shift < 32 ? 1u << shift : 0;
    /* [AUX-008] the merkle size is uint32(1 << branch length) */
    if (size != expected_size) return EC_AUXPOW_MERKLE_SIZE_MISMATCH;
    /* [AUX-009] the nonce is present (upstream would slice past the end and panic) */
    if (at + 8 > len) return EC_AUXPOW_SCRIPT_TOO_SHORT;
    uint32_t nonce = (uint32_t)script[at + 4] | (uint32_t)script[at + 5] << 8 | (uint32_t)script[at + 6] << 16 |
                     (uint32_t)script[at + 7] << 24;
    uint32_t expected;
    TRY(ec_expected_index(nonce, chain_id, height, &expected));
    /* [AUX-010] the aux merkle index is the one nonce and chain ID select */
    if (a->aux_index != expected) return EC_AUXPOW_INDEX_MISMATCH;
    return EC_OK;
}

/* -- compact bits and proof of work ------------------------------------------------------------ */

/* the signed target of compact bits as a BIGNUM (caller frees) */
static BIGNUM *compact_to_bn(uint32_t bits) {
    uint32_t mantissa = bits & 0x007FFFFF;
    int negative = (bits & 0x00800000) != 0;
    int exponent = (int)(bits >> 24);
    BIGNUM *n = BN_new();
    if (!n) return NULL;
    if (exponent <= 3) BN_set_word(n, mantissa >> (8 * (3 - exponent)));
    else if (!BN_set_word(n, mantissa) || !BN_lshift(n, n, 8 * (exponent - 3))) {
        BN_free(n);
        return NULL;
    }
    if (negative && !BN_is_zero(n)) BN_set_negative(n, 1);
    return n;
}

/* BigToCompact of a BIGNUM (any sign, any size), as the spec's big_to_compact */
static uint32_t bn_to_compact(const BIGNUM *n) {
    if (BN_is_zero(n)) return 0;
    int negative = BN_is_negative(n);
    uint64_t exponent = (uint64_t)(BN_num_bits(n) + 7) / 8;
    uint32_t mantissa;
    BIGNUM *m = BN_dup(n);
    if (!m) return 0;
    BN_set_negative(m, 0);
    if (exponent <= 3) BN_lshift(m, m, (int)(8 * (3 - exponent)));
    else BN_rshift(m, m, (int)(8 * (exponent - 3)));
    mantissa = (uint32_t)BN_get_word(m);
    BN_free(m);
    if (mantissa & 0x00800000) {
        mantissa >>= 8;
        exponent += 1;
    }
    uint32_t compact = (uint32_t)((exponent << 24) & 0xFFFFFFFFu) | mantissa;
    if (negative) compact |= 0x00800000;
    return compact;
}

static int bn_to_dec(const BIGNUM *n, char **out) {
    char *dec = BN_bn2dec(n);
    if (!dec) return EC_INTERNAL_ERROR;
    *out = strdup(dec);
    OPENSSL_free(dec);
    return *out ? EC_OK : EC_INTERNAL_ERROR;
}

int ec_bits_to_target(uint32_t bits, char **target_dec, int *negative, uint32_t *canonical_bits) {
    BIGNUM *t = compact_to_bn(bits);
    if (!t) return EC_INTERNAL_ERROR;
    *negative = BN_is_negative(t);
    *canonical_bits = bn_to_compact(t);
    int rc = bn_to_dec(t, target_dec);
    BN_free(t);
    return rc;
}

int ec_bits_from_target(const char *dec, uint32_t *bits) {
    BIGNUM *n = NULL;
    if (!BN_dec2bn(&n, dec)) return EC_INTERNAL_ERROR;
    *bits = bn_to_compact(n);
    BN_free(n);
    return EC_OK;
}

int ec_calc_work(uint32_t bits, char **work_dec) {
    BIGNUM *t = compact_to_bn(bits), *w = BN_new(), *one = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    int rc = EC_INTERNAL_ERROR;
    if (!t || !w || !one || !ctx) goto done;
    if (BN_is_zero(t) || BN_is_negative(t)) {
        BN_zero(w); /* 0 for a target <= 0 */
    } else if (!BN_one(one) || !BN_add(t, t, one) || !BN_lshift(one, one, 256) || !BN_div(w, NULL, one, t, ctx)) {
        goto done;
    }
    rc = bn_to_dec(w, work_dec);
done:
    BN_free(t);
    BN_free(w);
    BN_free(one);
    BN_CTX_free(ctx);
    return rc;
}

/* calc_work as 32 big-endian bytes (the work of a positive target is at most 2^255) */
int ec_calc_work_bytes(uint32_t bits, uint8_t *out32) {
    BIGNUM *t = compact_to_bn(bits), *w = BN_new(), *one = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    int rc = EC_INTERNAL_ERROR;
    if (!t || !w || !one || !ctx) goto done;
    if (BN_is_zero(t) || BN_is_negative(t)) {
        BN_zero(w); /* 0 for a target <= 0 */
    } else if (!BN_one(one) || !BN_add(t, t, one) || !BN_lshift(one, one, 256) || !BN_div(w, NULL, one, t, ctx)) {
        goto done;
    }
    if (BN_bn2binpad(w, out32, 32) == 32) rc = EC_OK;
done:
    BN_free(t);
    BN_free(w);
    BN_free(one);
    BN_CTX_free(ctx);
    return rc;
}

int ec_work_decimal(const uint8_t *be, size_t len, char **dec) {
    BIGNUM *n = BN_bin2bn(be, (int)len, NULL);
    if (!n) return EC_INTERNAL_ERROR;
    int rc = bn_to_dec(n, dec);
    BN_free(n);
    return rc;
}

int ec_next_required_bits(const ec_retarget *p, uint32_t prev_height, uint32_t prev_bits, uint32_t prev_timestamp,
                          int has_first, uint32_t first_timestamp, uint32_t *out) {
    uint64_t blocks = (p->target_timespan / p->target_time_per_block) & 0xFFFFFFFFu;
    if (prev_height == 0 || p->pow_limit_bits == 0x207FFFFFu) {
        *out = p->pow_limit_bits;
        return EC_OK;
    }
    if (blocks == 0) return EC_INTERNAL_ERROR;
    if ((uint32_t)(prev_height + 1u) % blocks != 0) {
        *out = prev_bits;
        return EC_OK;
    }
    /* [POW-004] a retarget needs the first header of the window */
    if (!has_first) return EC_RETARGET_ANCESTOR_MISSING;
    uint64_t actual = (uint32_t)(prev_timestamp - first_timestamp);
    uint64_t lo = p->target_timespan / p->adjustment_factor, hi = p->target_timespan * p->adjustment_factor;
    uint64_t adjusted = actual < lo ? lo : actual > hi ? hi : actual;
    BIGNUM *t = compact_to_bn(prev_bits), *a = BN_new(), *d = BN_new(), *q = BN_new(), *r = BN_new(),
           *limit = BN_bin2bn(p->pow_limit, 32, NULL);
    BN_CTX *ctx = BN_CTX_new();
    int rc = EC_INTERNAL_ERROR;
    if (!t || !a || !d || !q || !r || !limit || !ctx || !BN_set_word(a, adjusted) ||
        !BN_set_word(d, p->target_timespan) || !BN_mul(t, t, a, ctx) || !BN_div(q, r, t, d, ctx))
        goto done;
    /* floor division, as Python's // (BN_div truncates toward zero) */
    if (BN_is_negative(t) && !BN_is_zero(r) && !BN_sub_word(q, 1)) goto done;
    *out = bn_to_compact(BN_cmp(q, limit) > 0 ? limit : q);
    rc = EC_OK;
done:
    BN_free(t);
    BN_free(a);
    BN_free(d);
    BN_free(q);
    BN_free(r);
    BN_free(limit);
    BN_CTX_free(ctx);
    return rc;
}

int ec_check_proof_of_work(const uint8_t *parent_hash, uint32_t bits, const uint8_t *pow_limit_be32) {
    BIGNUM *target = compact_to_bn(bits), *limit = BN_bin2bn(pow_limit_be32, 32, NULL), *value = NULL;
    int rc = EC_INTERNAL_ERROR;
    uint8_t be[32];
    if (!target || !limit) goto done;
    /* [POW-001] the target is greater than zero */
    if (BN_is_zero(target) || BN_is_negative(target)) {
        rc = EC_POW_TARGET_NOT_POSITIVE;
        goto done;
    }
    /* [POW-002] the target is at most PowLimit */
    if (BN_cmp(target, limit) > 0) {
        rc = EC_POW_TARGET_ABOVE_LIMIT;
        goto done;
    }
    for (int i = 0; i < 32; i++) be[i] = parent_hash[31 - i];
    value = BN_bin2bn(be, 32, NULL);
    if (!value) goto done;
    /* [POW-003] the parent header's hash is at most the target */
    rc = BN_cmp(value, target) > 0 ? EC_POW_HASH_ABOVE_TARGET : EC_OK;
done:
    BN_free(target);
    BN_free(limit);
    BN_free(value);
    return rc;
}

/* -- transaction and block sanity ------------------------------------------------------------- */

static int is_zero32(const uint8_t *p) {
    for (int i = 0; i < 32; i++)
        if (p[i]) return 0;
    return 1;
}

static int output_address(const uint8_t *ph, uint32_t height, const ec_chain_params *params) {
    static const uint8_t zero21[21] = {0};
    if (height < params->check_address_height) return EC_OK;
    if (memcmp(ph, zero21, 21) == 0 || memcmp(ph, params->cr_assets_address, 21) == 0 ||
        memcmp(ph, params->cr_expenses_address, 21) == 0)
        return EC_OK;
    /* [TX-009] a known prefix that round-trips through an address */
    if (!IN(EC_OUTPUT_PREFIXES, ph[0])) return EC_TX_OUTPUT_ADDRESS;
    char addr[36];
    uint8_t back[21];
    TRY(ec_address_encode(ph, 21, addr));
    TRY(ec_address_decode(addr, strlen(addr), back));
    if (memcmp(back, ph, 21) != 0) return EC_TX_OUTPUT_ADDRESS;
    return EC_OK;
}

static int outpoint_order(const void *x, const void *y) {
    const uint8_t *a = *(const uint8_t *const *)x, *b = *(const uint8_t *const *)y;
    return memcmp(a, b, 34);
}

/* 1 when two of the n 34-byte outpoints (txid || index LE) are equal */
static int has_duplicate_outpoint(const ec_input *in, size_t n) {
    if (n < 2) return 0;
    if (n <= 8) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (in[i].index == in[j].index && memcmp(in[i].txid, in[j].txid, 32) == 0) return 1;
        return 0;
    }
    uint8_t *keys = malloc(34 * n);
    const uint8_t **ptrs = malloc(sizeof *ptrs * n);
    int dup = 0;
    if (!keys || !ptrs) {
        free(keys);
        free(ptrs);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(keys + 34 * i, in[i].txid, 32);
        keys[34 * i + 32] = (uint8_t)(in[i].index & 0xFF);
        keys[34 * i + 33] = (uint8_t)(in[i].index >> 8);
        ptrs[i] = keys + 34 * i;
    }
    qsort(ptrs, n, sizeof *ptrs, outpoint_order);
    for (size_t i = 1; i < n && !dup; i++) dup = memcmp(ptrs[i - 1], ptrs[i], 34) == 0;
    free(keys);
    free(ptrs);
    return dup;
}

static int hash_order(const void *x, const void *y) { return memcmp(x, y, 32); }

/* 1 when two of the n 32-byte hashes are equal (-1 on allocation failure) */
static int has_duplicate_hash(const uint8_t *hashes, size_t n) {
    if (n < 2) return 0;
    uint8_t *copy = malloc(32 * n);
    if (!copy) return -1;
    memcpy(copy, hashes, 32 * n);
    qsort(copy, n, 32, hash_order);
    int dup = 0;
    for (size_t i = 1; i < n && !dup; i++) dup = memcmp(copy + 32 * (i - 1), copy + 32 * i, 32) == 0;
    free(copy);
    return dup;
}

int ec_tx_sanity(const ec_tx *tx, uint32_t height, const ec_chain_params *params) {
    int coinbase = tx->type == 0x00;
    int new_sidechain_pow = tx->type == 0x05 && tx->n_inputs == 0;
    /* [TX-001] at most MaxBlockContextSize bytes */
    if (tx->size > params->max_block_context_size) return EC_TX_SIZE;
    /* inputs */
    if (coinbase) {
        const ec_input *in = tx->n_inputs == 1 ? &tx->inputs[0] : NULL;
        /* [TX-005] one input: zero txid, index 0xFFFF, sequence 0xFFFFFFFF */
        if (!in || !is_zero32(in->txid) || in->index != 0xFFFF || in->sequence != 0xFFFFFFFFu)
            return EC_COINBASE_BAD_INPUT;
    } else if (!new_sidechain_pow) {
        /* [TX-002] at least one input */
        if (tx->n_inputs == 0) return EC_TX_NO_INPUTS;
        for (size_t i = 0; i < tx->n_inputs; i++)
            /* [TX-003] no input references the coinbase outpoint */
            if (is_zero32(tx->inputs[i].txid) && tx->inputs[i].index == 0xFFFF) {
                /* the spec reports a duplicate first when one comes earlier: check the prefix */
                if (has_duplicate_outpoint(tx->inputs, i) == 1) return EC_TX_DUPLICATE_INPUT;
                return EC_TX_INVALID_INPUT;
            }
        /* [TX-004] no two inputs reference the same outpoint */
        int dup = has_duplicate_outpoint(tx->inputs, tx->n_inputs);
        if (dup < 0) return EC_INTERNAL_ERROR;
        if (dup) return EC_TX_DUPLICATE_INPUT;
    }
    /* outputs */
    size_t minimum = coinbase ? 2 : 1;
    /* [TX-006] 1..65535 outputs, at least 2 in a coinbase */
    if (tx->n_outputs < minimum || tx->n_outputs > 0xFFFF) return EC_TX_OUTPUT_COUNT;
    __int128 total = 0;
    for (size_t i = 0; i < tx->n_outputs; i++) {
        const ec_output *o = &tx->outputs[i];
        /* [TX-007] every output carries the ELA asset ID */
        if (memcmp(o->asset_id, params->ela_asset_id, 32) != 0) return EC_TX_OUTPUT_ASSET;
        /* [TX-008] no output value is negative */
        if (o->value < 0) return EC_TX_NEGATIVE_OUTPUT;
        if (!coinbase) TRY(output_address(o->program_hash, height, params));
        if (tx->version >= 0x09 && o->type != 0) {
            int allowed = (tx->type == 0x02 && o->type == 1 && o->program_hash[0] == 0x21) ||
                          (tx->type == 0x08 && o->type == 3);
            /* [TX-010] only OTNone, OTVote to a standard address in TransferAsset, OTCrossChain in a deposit */
            if (!allowed) return EC_TX_OUTPUT_TYPE_MISMATCH;
        }
        total += o->value;
        /* [TX-011] the sum of the output values fits an i64 */
        if (total > (__int128)INT64_MAX) return EC_TX_OUTPUT_SUM_OVERFLOW;
    }
    if (coinbase) {
        /* [TX-012] the foundation's output is at least 30 % of the coinbase (float arithmetic, as upstream) */
        if (tx->outputs[0].value < (int64_t)((double)(int64_t)total * 0.3)) return EC_COINBASE_FOUNDATION_SHARE;
    }
    /* programs */
    if (coinbase) {
        /* [TX-015] a coinbase has no programs */
        if (tx->n_programs) return EC_COINBASE_HAS_PROGRAMS;
    } else if (new_sidechain_pow) {
        const ec_output *only = tx->n_outputs == 1 ? &tx->outputs[0] : NULL;
        /* [TX-018] one zero-value OTNone output, no attributes, no programs */
        if (!only || only->value != 0 || only->type != 0 || tx->n_attributes || tx->n_programs)
            return EC_TX_SIDECHAIN_POW_SHAPE;
    } else {
        /* [TX-013] at least one program */
        if (tx->n_programs == 0) return EC_TX_NO_PROGRAMS;
        for (size_t i = 0; i < tx->n_programs; i++)
            /* [TX-014] program code of at least 23 bytes */
            if (tx->programs[i].code_len < 23) return EC_TX_PROGRAM_CODE;
    }
    /* payload */
    if (tx->type == 0x01) {
        int64_t d = 1;
        for (int k = 0; k < 8 - (int)tx->asset_precision && tx->asset_precision <= 8; k++) d *= 10;
        /* [TX-016] precision 0..8 and an amount precise to it */
        if (tx->asset_precision > 8 || tx->asset_amount % d != 0) return EC_TX_PAYLOAD_INVALID;
    }
    if (tx->type == 0x07 && tx->payload_version == 0) {
        int dup = has_duplicate_hash(tx->sidechain_hashes, tx->n_sidechain_hashes);
        if (dup < 0) return EC_INTERNAL_ERROR;
        /* [TX-017] distinct sidechain transaction hashes */
        if (dup) return EC_TX_SIDECHAIN_DUPLICATE;
    }
    return EC_OK;
}

/* a (key, transaction index) record for finding where a repeat first arises */
typedef struct {
    uint8_t key[34];
    size_t tx;
} keyed;

static int keyed_order(const void *x, const void *y) {
    const keyed *a = x, *b = y;
    int c = memcmp(a->key, b->key, 34);
    return c ? c : (a->tx < b->tx ? -1 : a->tx > b->tx);
}

/* the smallest transaction index at which some key is seen for the second time (SIZE_MAX: never;
 * SIZE_MAX - 1: out of memory) */
static size_t first_repeat(keyed *k, size_t n) {
    size_t at = SIZE_MAX;
    qsort(k, n, sizeof *k, keyed_order);
    for (size_t i = 1; i < n; i++)
        if (memcmp(k[i - 1].key, k[i].key, 34) == 0 && k[i].tx < at) at = k[i].tx;
    free(k);
    return at;
}

static size_t first_repeat_of_inputs(const ec_block *b) {
    size_t n = 0, j = 0;
    for (size_t i = 1; i < b->n_txs; i++)
        if (b->txs[i].type != 0) n += b->txs[i].n_inputs;
    keyed *k = malloc(sizeof *k * (n ? n : 1));
    if (!k) return SIZE_MAX - 1;
    for (size_t i = 0; i < b->n_txs; i++) {
        if (b->txs[i].type == 0) continue;
        for (size_t q = 0; q < b->txs[i].n_inputs; q++, j++) {
            memcpy(k[j].key, b->txs[i].inputs[q].txid, 32);
            k[j].key[32] = (uint8_t)(b->txs[i].inputs[q].index & 0xFF);
            k[j].key[33] = (uint8_t)(b->txs[i].inputs[q].index >> 8);
            k[j].tx = i;
        }
    }
    return first_repeat(k, j);
}

static size_t first_repeat_of_sidechain(const ec_block *b) {
    size_t n = 0, j = 0;
    for (size_t i = 0; i < b->n_txs; i++)
        if (b->txs[i].type == 0x07 && b->txs[i].payload_version == 0) n += b->txs[i].n_sidechain_hashes;
    keyed *k = malloc(sizeof *k * (n ? n : 1));
    if (!k) return SIZE_MAX - 1;
    for (size_t i = 0; i < b->n_txs; i++) {
        if (!(b->txs[i].type == 0x07 && b->txs[i].payload_version == 0)) continue;
        for (size_t q = 0; q < b->txs[i].n_sidechain_hashes; q++, j++) {
            memset(k[j].key, 0, 34);
            memcpy(k[j].key, b->txs[i].sidechain_hashes + 32 * q, 32);
            k[j].tx = i;
        }
    }
    return first_repeat(k, j);
}

int ec_block_sanity(const ec_block *b, const ec_chain_params *params, int64_t now) {
    const ec_header *h = &b->header;
    TRY(ec_auxpow_check(&h->auxpow, h->hash, 1224));
    TRY(ec_check_proof_of_work(h->auxpow.parent_header_hash, h->bits, params->pow_limit));
    /* [BLK-001] the timestamp is at most two hours ahead */
    if ((int64_t)h->timestamp > now + params->max_time_offset) return EC_BLOCK_TIME_TOO_FAR;
    /* [BLK-002] at least one transaction */
    if (b->n_txs == 0) return EC_BLOCK_NO_TRANSACTIONS;
    /* [BLK-003] at most 10000 transactions */
    if (b->n_txs > params->max_tx_per_block) return EC_BLOCK_TOO_MANY_TRANSACTIONS;
    /* [BLK-004] the header is at most 1,000,000 bytes */
    if (h->size > params->max_block_header_size) return EC_BLOCK_HEADER_TOO_LARGE;
    /* [BLK-005] the block is at most MaxBlockContextSize + MaxBlockHeaderSize bytes */
    if (b->size > params->max_block_context_size + params->max_block_header_size) return EC_BLOCK_TOO_LARGE;
    for (size_t i = 0; i < b->n_txs; i++) {
        /* [BLK-006] the first transaction is a coinbase */
        if (i == 0 && b->txs[i].type != 0) return EC_BLOCK_FIRST_NOT_COINBASE;
        /* [BLK-007] no other transaction is a coinbase */
        if (i > 0 && b->txs[i].type == 0) return EC_BLOCK_SECOND_COINBASE;
    }
    uint8_t *txids = malloc(32 * b->n_txs);
    if (!txids) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < b->n_txs; i++) memcpy(txids + 32 * i, b->txs[i].txid, 32);
    int rc = has_duplicate_hash(txids, b->n_txs);
    /* [BLK-008] no duplicate txid */
    if (rc) {
        free(txids);
        return rc < 0 ? EC_INTERNAL_ERROR : EC_BLOCK_DUPLICATE_TX;
    }
    /* BLK-009 and BLK-010 are checked transaction by transaction after each one's sanity, as the
     * spec does; the transaction at which a repeat first arises is found once, by sorting */
    size_t dup_input_at = first_repeat_of_inputs(b), dup_side_at = first_repeat_of_sidechain(b);
    if (dup_input_at == SIZE_MAX - 1 || dup_side_at == SIZE_MAX - 1) rc = EC_INTERNAL_ERROR;
    for (size_t i = 0; i < b->n_txs && rc == EC_OK; i++) {
        rc = ec_tx_sanity(&b->txs[i], h->height, params);
        /* [BLK-009] no outpoint is spent twice in the block */
        if (rc == EC_OK && i == dup_input_at) rc = EC_BLOCK_DUPLICATE_INPUT;
        /* [BLK-010] no sidechain hash in two withdrawals */
        if (rc == EC_OK && i == dup_side_at) rc = EC_BLOCK_DUPLICATE_SIDECHAIN_TX;
    }
    if (rc == EC_OK) {
        uint8_t root[32];
        rc = ec_merkle_root(txids, b->n_txs, root);
        /* [BLK-011] the merkle root matches */
        if (rc == EC_OK && memcmp(root, h->merkle_root, 32) != 0) rc = EC_BLOCK_BAD_MERKLE_ROOT;
    }
    free(txids);
    return rc;
}

int ec_block_body_committed(const ec_block *b) {
    if (b->n_txs == 0) return 0;
    uint8_t *txids = malloc(32 * b->n_txs), root[32];
    if (!txids) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < b->n_txs; i++) memcpy(txids + 32 * i, b->txs[i].txid, 32);
    int rc = has_duplicate_hash(txids, b->n_txs);
    if (rc == 0) rc = ec_merkle_root(txids, b->n_txs, root) != EC_OK ? EC_INTERNAL_ERROR
                      : memcmp(root, b->header.merkle_root, 32) == 0;
    else rc = rc < 0 ? EC_INTERNAL_ERROR : 0;
    free(txids);
    return rc;
}

/* -- the signatures of a transaction (TXC-010..012 and the program rules) ---------------------- */

/* compare two 20-byte code hashes as little-endian integers (Uint160.Compare) */
static int code_hash_cmp(const uint8_t *a, const uint8_t *b) {
    for (int i = 19; i >= 0; i--)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

typedef struct {
    uint8_t ph[21];
} ph_item;

static int ph_order(const void *x, const void *y) {
    const ph_item *a = x, *b = y;
    int c = code_hash_cmp(a->ph + 1, b->ph + 1);
    return c ? c : memcmp(a->ph, b->ph, 21);
}

typedef struct {
    uint8_t code_hash[20];
    size_t index;
} prog_item;

static int prog_order(const void *x, const void *y) {
    const prog_item *a = x, *b = y;
    int c = code_hash_cmp(a->code_hash, b->code_hash);
    return c ? c : (a->index < b->index ? -1 : a->index > b->index); /* stable, as sorted() */
}

int ec_check_signatures(const ec_tx *tx, const uint8_t *ref_program_hashes, size_t n_refs) {
    size_t n = 0, cap = n_refs + tx->n_attributes + 1;
    ph_item *hashes = malloc(sizeof *hashes * cap);
    prog_item *progs = malloc(sizeof *progs * (tx->n_programs + 1));
    int rc = EC_OK;
    if (!hashes || !progs) {
        rc = EC_INTERNAL_ERROR;
        goto done;
    }
    for (size_t i = 0; i < n_refs; i++) memcpy(hashes[n++].ph, ref_program_hashes + 21 * i, 21);
    for (size_t i = 0; i < tx->n_attributes; i++) {
        if (tx->attributes[i].usage != 0x20) continue;
        /* [TXC-010] a Script attribute holds a 21-byte program hash */
        if (tx->attributes[i].len != 21) {
            rc = EC_TX_PROGRAM_COUNT;
            goto done;
        }
        memcpy(hashes[n++].ph, tx->attributes[i].data, 21);
    }
    /* the distinct program hashes, sorted by code hash */
    qsort(hashes, n, sizeof *hashes, ph_order);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (distinct == 0 || memcmp(hashes[distinct - 1].ph, hashes[i].ph, 21) != 0) hashes[distinct++] = hashes[i];
    for (size_t i = 0; i < tx->n_programs; i++) {
        progs[i].index = i;
        if ((rc = ec_hash160(tx->programs[i].code, tx->programs[i].code_len, progs[i].code_hash))) goto done;
    }
    qsort(progs, tx->n_programs, sizeof *progs, prog_order);
    /* [TXC-010] one program per distinct program hash */
    if (distinct != tx->n_programs) {
        rc = EC_TX_PROGRAM_COUNT;
        goto done;
    }
    for (size_t i = 0; i < distinct && rc == EC_OK; i++) {
        const uint8_t *ph = hashes[i].ph;
        const ec_program *p = &tx->programs[progs[i].index];
        /* [TXC-011] the i-th code hashes to the i-th program hash */
        if (ph[0] != 0x4B && memcmp(progs[i].code_hash, ph + 1, 20) != 0) {
            rc = EC_TX_PROGRAM_HASH_MISMATCH;
            break;
        }
        /* [TXC-012] (inside) a prefix that signs, with a script it can run; then the program's rules */
        rc = ec_runnable_verify(ph[0], p->code, p->code_len, p->parameter, p->parameter_len, tx->data,
                                tx->unsigned_len);
    }
done:
    free(hashes);
    free(progs);
    return rc;
}
