/* The chain suite's handlers (conformance/bindings_chain/): the codecs, merkle, AuxPoW, proof of
 * work, sanity and signature handlers here, the p2p handlers in handlers_p2p.c and the genesis,
 * context and state handlers in handlers_state.c. Every handler of the suite is in C and passes, so
 * the suite is announced (CHAIN_ANNOUNCED). Inputs are checked in the order the bindings read them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "elastos_tables.h"

const int CHAIN_ANNOUNCED = 1;

#define U32_MAX 0xFFFFFFFFLL

static int u32(const jv *in, const char *key, uint32_t *out) {
    long long v;
    TRY(in_small_int(in, key, 0, U32_MAX, &v));
    *out = (uint32_t)v;
    return EC_OK;
}


/* 32-byte hashes concatenated; [ENC-006] every leaf, node and branch entry is exactly 32 bytes */
static int hashes32(arena *a, uint8_t **items, size_t *lens, size_t n, uint8_t **flat) {
    *flat = arena_alloc(a, 32 * n + 1);
    if (!*flat) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] != 32) return EC_WRONG_LENGTH;
        memcpy(*flat + 32 * i, items[i], 32);
    }
    return EC_OK;
}

static int network(const jv *in, const ec_network_entry **out) {
    const jv *v = json_get(in, "network");
    if (!v || v->type != J_STR) return EC_MALFORMED_INPUT;
    for (int i = 0; i < EC_NETWORKS_COUNT; i++)
        if (strlen(EC_NETWORKS[i].name) == v->n && memcmp(EC_NETWORKS[i].name, v->s, v->n) == 0) {
            *out = &EC_NETWORKS[i];
            return EC_OK;
        }
    /* [NET-001] the network is one the spec defines */
    return EC_UNKNOWN_NETWORK;
}

/* the network's parameters, with the optional `limits` a sanity case may lower */
static int limited(const jv *in, ec_chain_params *p) {
    const ec_network_entry *net;
    TRY(network(in, &net));
    ec_chain_params_of((int)(net - EC_NETWORKS), p);
    const jv *lim = json_get(in, "limits");
    if (!lim) return EC_OK;
    static const char *const none[] = {NULL};
    static const char *const keys[] = {"max_block_context_size", "max_block_header_size", "max_tx_per_block", NULL};
    TRY(in_shape(lim, none, keys));
    uint32_t v;
    if (json_get(lim, keys[0])) {
        TRY(u32(lim, keys[0], &v));
        p->max_block_context_size = v;
    }
    if (json_get(lim, keys[1])) {
        TRY(u32(lim, keys[1], &v));
        p->max_block_header_size = v;
    }
    if (json_get(lim, keys[2])) {
        TRY(u32(lim, keys[2], &v));
        p->max_tx_per_block = v;
    }
    return EC_OK;
}

static void out_hash_list(ec_buf *out, int first, const char *key, const uint8_t *h, size_t n) {
    out_key(out, first, key);
    ec_buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '"');
        ec_buf_hex(out, h + 32 * i, 32);
        ec_buf_putc(out, '"');
    }
    ec_buf_putc(out, ']');
}

/* -- merkle ----------------------------------------------------------------------------------- */

static int h_merkle_root(arena *a, const jv *in, ec_buf *out) {
    uint8_t **items, *flat, root[32];
    size_t *lens, n;
    SHAPE(in, "hashes");
    TRY(in_hex_list(a, in, "hashes", &items, &lens, &n));
    /* [MRK-001] comes before the size check of the hashes, as in the spec */
    if (n == 0) return EC_MERKLE_EMPTY;
    TRY(hashes32(a, items, lens, n, &flat));
    TRY(ec_merkle_root(flat, n, root));
    out_hex_field(out, 1, "root", root, 32);
    return EC_OK;
}

static int h_merkle_branch(arena *a, const jv *in, ec_buf *out) {
    uint8_t **items, *flat, branch[32 * 64];
    size_t *lens, n, bn;
    uint32_t index;
    SHAPE(in, "hashes", "index");
    TRY(in_hex_list(a, in, "hashes", &items, &lens, &n));
    TRY(u32(in, "index", &index));
    /* [MRK-002] a branch is made only for a leaf the tree holds (before the size check) */
    if (index >= n) return EC_MERKLE_INDEX_OUT_OF_RANGE;
    TRY(hashes32(a, items, lens, n, &flat));
    TRY(ec_merkle_branch(flat, n, index, branch, &bn));
    out_hash_list(out, 1, "branch", branch, bn);
    return EC_OK;
}

static int h_merkle_branch_root(arena *a, const jv *in, ec_buf *out) {
    uint8_t *leaf, **items, *flat, root[32];
    size_t leaf_n, *lens, n;
    uint32_t index;
    SHAPE(in, "leaf", "branch", "index");
    TRY(in_hex(a, in, "leaf", &leaf, &leaf_n));
    TRY(in_hex_list(a, in, "branch", &items, &lens, &n));
    TRY(u32(in, "index", &index));
    /* [ENC-006] the leaf, then every branch entry, is exactly 32 bytes */
    if (leaf_n != 32) return EC_WRONG_LENGTH;
    TRY(hashes32(a, items, lens, n, &flat));
    ec_merkle_branch_root(leaf, flat, n, index, root);
    out_hex_field(out, 1, "root", root, 32);
    return EC_OK;
}

/* -- AuxPoW and proof of work ------------------------------------------------------------------ */

static int h_auxpow_check(arena *a, const jv *in, ec_buf *out) {
    uint8_t *raw, *hash;
    size_t n, hn;
    uint32_t chain_id;
    ec_auxpow ap;
    (void)out;
    SHAPE(in, "auxpow", "block_hash", "chain_id");
    TRY(in_hex(a, in, "auxpow", &raw, &n));
    TRY(ec_auxpow_decode(raw, n, &ap));
    TRY(in_hex(a, in, "block_hash", &hash, &hn));
    TRY(u32(in, "chain_id", &chain_id));
    /* [ENC-006] a hash is exactly 32 bytes */
    if (hn != 32) return EC_WRONG_LENGTH;
    return ec_auxpow_check(&ap, hash, chain_id);
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int h_auxpow_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *raw;
    size_t n;
    ec_auxpow ap;
    SHAPE(in, "auxpow");
    TRY(in_hex(a, in, "auxpow", &raw, &n));
    TRY(ec_auxpow_decode(raw, n, &ap)); /* every check; the walk below cannot fail */
    ec_reader r = {raw, n, 0};
    const uint8_t *p, *d;
    size_t dn;
    uint32_t u;
    uint64_t count, v64;
    out_key(out, 1, "par_coinbase_tx");
    ec_buf_putc(out, '{');
    ec_read(&r, 4, &p);
    out_int_field(out, 1, "version", (int32_t)le32(p));
    out_key(out, 0, "inputs");
    ec_buf_putc(out, '[');
    ec_read_varuint(&r, &count);
    for (uint64_t i = 0; i < count; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '{');
        ec_read(&r, 32, &p);
        out_hex_field(out, 1, "previous_hash", p, 32);
        ec_read_u32(&r, &u);
        out_int_field(out, 0, "previous_index", u);
        ec_read_varbytes(&r, 10000, &d, &dn);
        out_hex_field(out, 0, "signature_script", d, dn);
        ec_read_u32(&r, &u);
        out_int_field(out, 0, "sequence", u);
        ec_buf_putc(out, '}');
    }
    ec_buf_putc(out, ']');
    out_key(out, 0, "outputs");
    ec_buf_putc(out, '[');
    ec_read_varuint(&r, &count);
    for (uint64_t i = 0; i < count; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '{');
        ec_read_u64(&r, &v64);
        int64_t value = (int64_t)v64;
        out_dec_field(out, 1, "value", value < 0, value < 0 ? (unsigned __int128)(-(__int128)value) : (unsigned __int128)value);
        ec_read_varbytes(&r, 10000, &d, &dn);
        out_hex_field(out, 0, "pk_script", d, dn);
        ec_buf_putc(out, '}');
    }
    ec_buf_putc(out, ']');
    ec_read_u32(&r, &u);
    out_int_field(out, 0, "lock_time", u);
    out_hex_field(out, 0, "txid", ap.coinbase_hash, 32);
    ec_buf_putc(out, '}');
    ec_read(&r, 32, &p);
    out_hex_field(out, 0, "parent_hash", p, 32);
    out_hash_list(out, 0, "par_coinbase_branch", ap.coinbase_branch, ap.n_coinbase_branch);
    out_int_field(out, 0, "par_merkle_index", ap.coinbase_index);
    out_hash_list(out, 0, "aux_merkle_branch", ap.aux_branch, ap.n_aux_branch);
    out_int_field(out, 0, "aux_merkle_index", ap.aux_index);
    const uint8_t *hd = ap.parent_header;
    out_key(out, 0, "par_block_header");
    ec_buf_putc(out, '{');
    out_int_field(out, 1, "version", le32(hd));
    out_hex_field(out, 0, "previous", hd + 4, 32);
    out_hex_field(out, 0, "merkle_root", hd + 36, 32);
    out_int_field(out, 0, "timestamp", le32(hd + 68));
    out_int_field(out, 0, "bits", le32(hd + 72));
    out_int_field(out, 0, "nonce", le32(hd + 76));
    out_hex_field(out, 0, "hash", ap.parent_header_hash, 32);
    ec_buf_putc(out, '}');
    out_int_field(out, 0, "size", (long long)n);
    return EC_OK;
}

static int h_auxpow_expected_index(arena *a, const jv *in, ec_buf *out) {
    uint32_t nonce, chain_id, height, index;
    (void)a;
    SHAPE(in, "nonce", "chain_id", "height");
    TRY(u32(in, "nonce", &nonce));
    TRY(u32(in, "chain_id", &chain_id));
    TRY(u32(in, "height", &height));
    TRY(ec_expected_index(nonce, chain_id, height, &index));
    out_int_field(out, 1, "index", index);
    return EC_OK;
}

static int h_pow_check(arena *a, const jv *in, ec_buf *out) {
    static const char *const req[] = {"bits", "network", NULL},
                             *const opt[] = {"parent_header", "parent_header_hash", NULL};
    uint8_t *raw, hash[32], zero[32] = {0};
    size_t n;
    uint32_t bits;
    const ec_network_entry *net;
    (void)out;
    TRY(in_shape(in, req, opt));
    int has_header = json_get(in, "parent_header") != NULL, has_hash = json_get(in, "parent_header_hash") != NULL;
    if (has_header == has_hash) return EC_MALFORMED_INPUT;
    const uint8_t *h = hash;
    size_t h_len = 32;
    if (has_header) {
        TRY(in_hex(a, in, "parent_header", &raw, &n));
        /* a Bitcoin header is exactly 80 bytes (ENC-001, ENC-002) */
        if (n < 80) return EC_TRUNCATED;
        if (n > 80) return EC_TRAILING_BYTES;
        ec_sha256d(raw, 80, hash);
    } else {
        TRY(in_hex(a, in, "parent_header_hash", &raw, &n));
        h = raw;
        h_len = n;
    }
    TRY(u32(in, "bits", &bits));
    TRY(network(in, &net));
    /* the target's checks (POW-001, POW-002) come before the hash is read */
    int rc = ec_check_proof_of_work(zero, bits, net->pow_limit);
    if (rc) return rc;
    /* [ENC-006] a hash is exactly 32 bytes */
    if (h_len != 32) return EC_WRONG_LENGTH;
    return ec_check_proof_of_work(h, bits, net->pow_limit);
}

/* -- transactions and blocks ------------------------------------------------------------------ */

static int h_tx_sanity(arena *a, const jv *in, ec_buf *out) {
    static const char *const req[] = {"tx", "height", "network", NULL}, *const opt[] = {"limits", NULL};
    uint8_t *raw;
    size_t n;
    uint32_t height;
    ec_tx tx;
    ec_chain_params p;
    (void)out;
    TRY(in_shape(in, req, opt));
    TRY(in_hex(a, in, "tx", &raw, &n));
    int rc = ec_tx_decode(raw, n, &tx);
    if (rc == EC_OK) rc = u32(in, "height", &height);
    if (rc == EC_OK) rc = limited(in, &p);
    if (rc == EC_OK) rc = ec_tx_sanity(&tx, height, &p);
    ec_tx_free(&tx);
    return rc;
}

static int h_block_sanity(arena *a, const jv *in, ec_buf *out) {
    static const char *const req[] = {"block", "network", "now", NULL}, *const opt[] = {"limits", NULL};
    uint8_t *raw;
    size_t n;
    uint32_t now;
    ec_block b;
    ec_chain_params p;
    (void)out;
    TRY(in_shape(in, req, opt));
    TRY(in_hex(a, in, "block", &raw, &n));
    TRY(ec_block_decode(raw, n, &b));
    int rc = limited(in, &p);
    if (rc == EC_OK) rc = u32(in, "now", &now);
    if (rc == EC_OK) rc = ec_block_sanity(&b, &p, now);
    ec_block_free(&b);
    return rc;
}

static int h_block_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *raw;
    size_t n;
    ec_block b;
    SHAPE(in, "block");
    TRY(in_hex(a, in, "block", &raw, &n));
    TRY(ec_block_decode(raw, n, &b));
    const ec_header *h = &b.header;
    out_hex_field(out, 1, "hash", h->hash, 32);
    out_key(out, 0, "header");
    ec_buf_putc(out, '{');
    out_int_field(out, 1, "version", h->version);
    out_hex_field(out, 0, "previous", h->previous, 32);
    out_hex_field(out, 0, "merkle_root", h->merkle_root, 32);
    out_int_field(out, 0, "timestamp", h->timestamp);
    out_int_field(out, 0, "bits", h->bits);
    out_int_field(out, 0, "nonce", h->nonce);
    out_int_field(out, 0, "height", h->height);
    ec_buf_putc(out, '}');
    out_key(out, 0, "txids");
    ec_buf_putc(out, '[');
    for (size_t i = 0; i < b.n_txs; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '"');
        ec_buf_hex(out, b.txs[i].txid, 32);
        ec_buf_putc(out, '"');
    }
    ec_buf_putc(out, ']');
    out_int_field(out, 0, "size", (long long)b.size);
    ec_block_free(&b);
    return EC_OK;
}

/* -- ela.tx.decode: the transaction as JSON (conformance/bindings_chain/chain.py tx_json) --------- */

static void rd(ec_reader *r, size_t n, const uint8_t **p) { ec_read(r, n, p); }

static uint64_t rd_le(ec_reader *r, size_t n) {
    const uint8_t *p;
    uint64_t v = 0;
    rd(r, n, &p);
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

static void out_i64_field(ec_buf *out, int first, const char *key, int64_t v) {
    out_dec_field(out, first, key, v < 0, v < 0 ? (unsigned __int128)(-(__int128)v) : (unsigned __int128)v);
}

static void out_varbytes_field(ec_reader *r, ec_buf *out, int first, const char *key) {
    const uint8_t *d;
    size_t n;
    ec_read_varbytes(r, UINT64_MAX, &d, &n);
    out_hex_field(out, first, key, d, n);
}

static void out_hash_field(ec_reader *r, ec_buf *out, int first, const char *key) {
    const uint8_t *p;
    rd(r, 32, &p);
    out_hex_field(out, first, key, p, 32);
}

/* the payload of an already validated transaction, read again from its bytes */
static void payload_json(ec_reader *r, const ec_tx *tx, ec_buf *out) {
    uint64_t n;
    ec_buf_putc(out, '{');
    switch (tx->type) {
    case 0x00:
        out_varbytes_field(r, out, 1, "content");
        break;
    case 0x01: {
        const uint8_t *p;
        out_key(out, 1, "asset");
        ec_buf_putc(out, '{');
        out_varbytes_field(r, out, 1, "name");
        out_varbytes_field(r, out, 0, "description");
        rd(r, 3, &p);
        out_int_field(out, 0, "precision", p[0]);
        out_int_field(out, 0, "asset_type", p[1]);
        out_int_field(out, 0, "record_type", p[2]);
        ec_buf_putc(out, '}');
        out_i64_field(out, 0, "amount", (int64_t)rd_le(r, 8));
        rd(r, 21, &p);
        out_hex_field(out, 0, "controller", p, 21);
        break;
    }
    case 0x03:
        out_varbytes_field(r, out, 1, "type");
        out_varbytes_field(r, out, 0, "content");
        break;
    case 0x05:
        out_hash_field(r, out, 1, "side_block_hash");
        out_hash_field(r, out, 0, "side_genesis_hash");
        out_int_field(out, 0, "block_height", (long long)rd_le(r, 4));
        out_varbytes_field(r, out, 0, "signature");
        break;
    case 0x07:
        if (tx->payload_version == 1) {
            ec_buf_puts(out, "\"block_height\":0,\"genesis_block_address\":\"\",\"sidechain_tx_hashes\":[]");
            break;
        }
        out_int_field(out, 1, "block_height", (long long)rd_le(r, 4));
        out_varbytes_field(r, out, 0, "genesis_block_address");
        ec_read_varuint(r, &n);
        out_key(out, 0, "sidechain_tx_hashes");
        ec_buf_putc(out, '[');
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t *p;
            if (i) ec_buf_putc(out, ',');
            rd(r, 32, &p);
            ec_buf_putc(out, '"');
            ec_buf_hex(out, p, 32);
            ec_buf_putc(out, '"');
        }
        ec_buf_putc(out, ']');
        break;
    case 0x08:
        out_key(out, 1, "entries");
        ec_buf_putc(out, '[');
        if (tx->payload_version != 1) {
            ec_read_varuint(r, &n);
            for (uint64_t i = 0; i < n; i++) {
                uint64_t index;
                if (i) ec_buf_putc(out, ',');
                ec_buf_putc(out, '{');
                out_varbytes_field(r, out, 1, "address");
                ec_read_varuint(r, &index);
                out_dec_field(out, 0, "output_index", 0, index);
                out_i64_field(out, 0, "amount", (int64_t)rd_le(r, 8));
                ec_buf_putc(out, '}');
            }
        }
        ec_buf_putc(out, ']');
        break;
    default: /* TransferAsset: empty */
        break;
    }
    ec_buf_putc(out, '}');
}

static void output_payload_json(ec_reader *r, int type, ec_buf *out) {
    uint64_t contents, cands;
    if (type == 0) {
        ec_buf_puts(out, "null");
        return;
    }
    ec_buf_putc(out, '{');
    int version = (int)rd_le(r, 1);
    out_int_field(out, 1, "version", version);
    switch (type) {
    case 1:
        ec_read_varuint(r, &contents);
        out_key(out, 0, "contents");
        ec_buf_putc(out, '[');
        for (uint64_t i = 0; i < contents; i++) {
            if (i) ec_buf_putc(out, ',');
            ec_buf_putc(out, '{');
            out_int_field(out, 1, "vote_type", (long long)rd_le(r, 1));
            ec_read_varuint(r, &cands);
            out_key(out, 0, "candidates");
            ec_buf_putc(out, '[');
            for (uint64_t j = 0; j < cands; j++) {
                if (j) ec_buf_putc(out, ',');
                ec_buf_putc(out, '{');
                out_varbytes_field(r, out, 1, "candidate");
                if (version >= 1) out_i64_field(out, 0, "votes", (int64_t)rd_le(r, 8));
                else ec_buf_puts(out, ",\"votes\":null");
                ec_buf_putc(out, '}');
            }
            ec_buf_puts(out, "]}");
        }
        ec_buf_putc(out, ']');
        break;
    case 3:
        out_varbytes_field(r, out, 0, "target_address");
        out_i64_field(out, 0, "target_amount", (int64_t)rd_le(r, 8));
        out_varbytes_field(r, out, 0, "target_data");
        break;
    case 4:
        out_varbytes_field(r, out, 0, "genesis_block_address");
        out_hash_field(r, out, 0, "sidechain_tx_hash");
        out_varbytes_field(r, out, 0, "target_data");
        break;
    default: /* 5: OTReturnSideChainDepositCoin */
        out_varbytes_field(r, out, 0, "genesis_block_address");
        out_hash_field(r, out, 0, "deposit_tx_hash");
        break;
    }
    ec_buf_putc(out, '}');
}

static int h_tx_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *raw;
    size_t n;
    ec_tx tx;
    uint64_t count;
    SHAPE(in, "tx");
    TRY(in_hex(a, in, "tx", &raw, &n));
    TRY(ec_tx_decode(raw, n, &tx)); /* every check; the walk below reads a valid encoding */
    ec_reader r = {raw, n, 0};
    rd(&r, tx.version >= 0x09 ? 3 : 2, NULL);
    out_hex_field(out, 1, "txid", tx.txid, 32);
    out_int_field(out, 0, "version", tx.version);
    out_int_field(out, 0, "type", tx.type);
    out_int_field(out, 0, "payload_version", tx.payload_version);
    out_key(out, 0, "payload");
    payload_json(&r, &tx, out);
    out_key(out, 0, "attributes");
    ec_buf_putc(out, '[');
    for (size_t i = 0; i < tx.n_attributes; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '{');
        out_int_field(out, 1, "usage", tx.attributes[i].usage);
        out_hex_field(out, 0, "data", tx.attributes[i].data, tx.attributes[i].len);
        ec_buf_putc(out, '}');
    }
    ec_buf_putc(out, ']');
    out_key(out, 0, "inputs");
    ec_buf_putc(out, '[');
    for (size_t i = 0; i < tx.n_inputs; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '{');
        out_hex_field(out, 1, "txid", tx.inputs[i].txid, 32);
        out_int_field(out, 0, "index", tx.inputs[i].index);
        out_int_field(out, 0, "sequence", tx.inputs[i].sequence);
        ec_buf_putc(out, '}');
    }
    ec_buf_putc(out, ']');
    /* skip the attributes and inputs to the outputs, whose payloads are read again */
    ec_read_varuint(&r, &count);
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *d;
        size_t dn;
        rd(&r, 1, NULL);
        ec_read_varbytes(&r, UINT64_MAX, &d, &dn);
    }
    ec_read_varuint(&r, &count);
    rd(&r, (size_t)count * 38, NULL);
    ec_read_varuint(&r, &count);
    out_key(out, 0, "outputs");
    ec_buf_putc(out, '[');
    for (size_t i = 0; i < tx.n_outputs; i++) {
        const ec_output *o = &tx.outputs[i];
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '{');
        out_hex_field(out, 1, "asset_id", o->asset_id, 32);
        out_i64_field(out, 0, "value", o->value);
        out_int_field(out, 0, "output_lock", o->output_lock);
        out_hex_field(out, 0, "program_hash", o->program_hash, 21);
        out_int_field(out, 0, "type", o->type);
        out_key(out, 0, "payload");
        rd(&r, 32 + 8 + 4 + 21 + (tx.version >= 0x09 ? 1 : 0), NULL);
        output_payload_json(&r, o->type, out);
        ec_buf_putc(out, '}');
    }
    ec_buf_putc(out, ']');
    out_int_field(out, 0, "lock_time", tx.lock_time);
    out_key(out, 0, "programs");
    ec_buf_putc(out, '[');
    for (size_t i = 0; i < tx.n_programs; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_putc(out, '{');
        out_hex_field(out, 1, "parameter", tx.programs[i].parameter, tx.programs[i].parameter_len);
        out_hex_field(out, 0, "code", tx.programs[i].code, tx.programs[i].code_len);
        ec_buf_putc(out, '}');
    }
    ec_buf_putc(out, ']');
    out_int_field(out, 0, "size", (long long)tx.size);
    ec_tx_free(&tx);
    return EC_OK;
}

/* ela.tx.set_version: the transaction re-encoded with another version, as the spec's serialize() */
static int h_tx_set_version(arena *a, const jv *in, ec_buf *out) {
    uint8_t *raw;
    size_t n;
    long long version;
    ec_tx tx;
    SHAPE(in, "tx", "version");
    TRY(in_hex(a, in, "tx", &raw, &n));
    TRY(ec_tx_decode(raw, n, &tx));
    int rc = in_small_int(in, "version", 0, 0xFF, &version);
    /* [TXE-001] the version is 0 or at least 0x09 */
    if (rc == EC_OK && version > 0 && version < 0x09) rc = EC_TX_VERSION_INVALID;
    if (rc) {
        ec_tx_free(&tx);
        return rc;
    }
    ec_reader r = {raw, n, 0};
    ec_buf enc = {0};
    const uint8_t *start, *p;
    uint64_t count;
    if (version >= 0x09) ec_buf_putc(&enc, (uint8_t)version);
    rd(&r, tx.version >= 0x09 ? 1 : 0, NULL);
    /* type, payload version, payload, attributes and inputs are copied as they are */
    start = r.data + r.pos;
    rd(&r, 2, NULL);
    ec_buf payload_sink = {0};
    payload_json(&r, &tx, &payload_sink); /* walks the payload */
    free(payload_sink.p);
    ec_read_varuint(&r, &count);
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *d;
        size_t dn;
        rd(&r, 1, NULL);
        ec_read_varbytes(&r, UINT64_MAX, &d, &dn);
    }
    ec_read_varuint(&r, &count);
    rd(&r, (size_t)count * 38, NULL);
    ec_buf_put(&enc, start, (size_t)(r.data + r.pos - start));
    ec_read_varuint(&r, &count);
    uint8_t vu[9];
    ec_buf_put(&enc, vu, ec_varuint_encode(count, vu));
    for (size_t i = 0; i < tx.n_outputs; i++) {
        rd(&r, 32 + 8 + 4 + 21, &p);
        ec_buf_put(&enc, p, 65);
        const uint8_t *payload_start = r.data + r.pos;
        if (tx.version >= 0x09) {
            ec_buf sink = {0};
            rd(&r, 1, NULL);
            payload_start = r.data + r.pos;
            output_payload_json(&r, tx.outputs[i].type, &sink);
            free(sink.p);
        }
        if (version >= 0x09) {
            /* the type byte and the payload (none when the old version had no output types) */
            ec_buf_putc(&enc, tx.outputs[i].type);
            ec_buf_put(&enc, payload_start, (size_t)(r.data + r.pos - payload_start));
        }
    }
    ec_buf_put(&enc, r.data + r.pos, n - r.pos); /* lock time and programs */
    uint8_t txid[32];
    size_t unsigned_len = enc.len - (n - r.pos) + 4;
    ec_sha256d(enc.p, unsigned_len, txid);
    out_hex_field(out, 1, "tx", enc.p, enc.len);
    out_hex_field(out, 0, "txid", txid, 32);
    free(enc.p);
    ec_tx_free(&tx);
    return enc.oom ? EC_INTERNAL_ERROR : EC_OK;
}

static int h_tx_verify_signatures(arena *a, const jv *in, ec_buf *out) {
    static const char *const ref_req[] = {"txid", "index", "program_hash", NULL}, *const ref_opt[] = {"value", NULL};
    uint8_t *raw, *x;
    size_t n, xn;
    ec_tx tx;
    (void)out;
    SHAPE(in, "tx", "referenced_outputs");
    TRY(in_hex(a, in, "tx", &raw, &n));
    TRY(ec_tx_decode(raw, n, &tx));
    const jv *refs = json_get(in, "referenced_outputs");
    uint8_t *phs = NULL;
    int rc = refs->type == J_ARR ? EC_OK : EC_MALFORMED_INPUT;
    if (rc == EC_OK && !(phs = arena_alloc(a, 21 * refs->n + 1))) rc = EC_INTERNAL_ERROR;
    for (size_t i = 0; rc == EC_OK && i < refs->n; i++) {
        const jv *r = &refs->items[i];
        long long index;
        bigint value;
        rc = in_shape(r, ref_req, ref_opt);
        if (rc == EC_OK) rc = in_hex(a, r, "txid", &x, &xn);
        if (rc == EC_OK) rc = in_small_int(r, "index", 0, 0xFFFF, &index);
        if (rc == EC_OK && json_get(r, "value")) rc = in_big_int(r, "value", &value);
        if (rc == EC_OK) rc = in_hex(a, r, "program_hash", &x, &xn);
        if (rc == EC_OK && xn != 21) rc = EC_MALFORMED_INPUT;
        if (rc == EC_OK) memcpy(phs + 21 * i, x, 21);
    }
    if (rc == EC_OK && refs->n != tx.n_inputs) rc = EC_MALFORMED_INPUT; /* one referenced output per input */
    if (rc == EC_OK) rc = ec_check_signatures(&tx, phs, refs->n);
    ec_tx_free(&tx);
    return rc;
}

static int h_address_from_pubkey(arena *a, const jv *in, ec_buf *out) {
    static const struct {
        const char *name;
        uint8_t prefix;
    } PREFIXES[] = {{"standard", 0x21}, {"deposit", 0x1F}, {"did", 0x67}};
    uint8_t *pk, code[35], ph[21];
    size_t n;
    char addr[36];
    SHAPE(in, "pubkey", "prefix");
    const jv *p = json_get(in, "prefix");
    int prefix = -1;
    for (int i = 0; i < 3 && p->type == J_STR; i++)
        if (strlen(PREFIXES[i].name) == p->n && memcmp(PREFIXES[i].name, p->s, p->n) == 0) prefix = PREFIXES[i].prefix;
    if (prefix < 0) return EC_MALFORMED_INPUT;
    TRY(in_hex(a, in, "pubkey", &pk, &n));
    TRY(ec_script_standard(pk, n, code));
    ph[0] = (uint8_t)prefix;
    TRY(ec_hash160(code, 35, ph + 1));
    TRY(ec_address_encode(ph, 21, addr));
    out_str_field(out, 1, "address", addr);
    out_hex_field(out, 0, "program_hash", ph, 21);
    return EC_OK;
}

/* -- compact bits, work, retarget, reward ----------------------------------------------------- */

static int h_bits_to_target(arena *a, const jv *in, ec_buf *out) {
    uint32_t bits, canonical;
    int negative;
    char *dec;
    (void)a;
    SHAPE(in, "bits");
    TRY(u32(in, "bits", &bits));
    TRY(ec_bits_to_target(bits, &dec, &negative, &canonical));
    out_str_field(out, 1, "target", dec);
    ec_free(dec);
    out_key(out, 0, "negative");
    ec_buf_puts(out, negative ? "true" : "false");
    out_int_field(out, 0, "canonical_bits", canonical);
    return EC_OK;
}

static int h_bits_from_target(arena *a, const jv *in, ec_buf *out) {
    bigint check;
    uint32_t bits;
    (void)a;
    SHAPE(in, "target");
    TRY(in_big_int(in, "target", &check)); /* the decimal-string shape; the value itself goes to BN */
    const jv *v = json_get(in, "target");
    TRY(ec_bits_from_target(v->s, &bits));
    out_int_field(out, 1, "bits", bits);
    return EC_OK;
}

static int h_work(arena *a, const jv *in, ec_buf *out) {
    uint32_t bits;
    char *dec;
    (void)a;
    SHAPE(in, "bits");
    TRY(u32(in, "bits", &bits));
    TRY(ec_calc_work(bits, &dec));
    out_str_field(out, 1, "work", dec);
    ec_free(dec);
    return EC_OK;
}

static int h_bits_next(arena *a, const jv *in, ec_buf *out) {
    static const char *const fields[] = {"height", "timestamp", "bits", NULL};
    const ec_network_entry *net;
    (void)a;
    SHAPE(in, "headers", "network");
    const jv *hs = json_get(in, "headers");
    if (hs->type != J_ARR) return EC_MALFORMED_INPUT;
    uint32_t *hv = arena_alloc(a, 3 * sizeof *hv * (hs->n + 1));
    if (!hv) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < hs->n; i++) {
        TRY(in_shape(&hs->items[i], fields, NULL));
        for (int k = 0; k < 3; k++) TRY(u32(&hs->items[i], fields[k], &hv[3 * i + (size_t)k]));
    }
    TRY(network(in, &net));
    /* [POW-004] the previous header must be given */
    if (hs->n == 0) return EC_RETARGET_ANCESTOR_MISSING;
    ec_retarget p;
    memcpy(p.pow_limit, net->pow_limit, 32);
    p.pow_limit_bits = net->pow_limit_bits;
    p.target_timespan = net->target_timespan;
    p.target_time_per_block = net->target_time_per_block;
    p.adjustment_factor = net->adjustment_factor;
    const uint32_t *prev = &hv[3 * (hs->n - 1)];
    uint64_t blocks = (p.target_timespan / p.target_time_per_block) & 0xFFFFFFFFu;
    int has_first = 0;
    uint32_t first = 0, bits;
    if (prev[0] != 0 && p.pow_limit_bits != 0x207FFFFFu && blocks && (uint32_t)(prev[0] + 1u) % blocks == 0) {
        uint32_t wanted = (uint32_t)(prev[0] - blocks + 1u);
        for (size_t i = hs->n; i-- > 0;) /* walk back from prev, as upstream finds the window's first header */
            if (hv[3 * i] == wanted) {
                first = hv[3 * i + 1];
                has_first = 1;
                break;
            }
    }
    TRY(ec_next_required_bits(&p, prev[0], prev[2], prev[1], has_first, first, &bits));
    out_int_field(out, 1, "bits", bits);
    return EC_OK;
}

static int h_reward(arena *a, const jv *in, ec_buf *out) {
    uint32_t height;
    const ec_network_entry *net;
    (void)a;
    SHAPE(in, "network", "height");
    TRY(u32(in, "height", &height));
    TRY(network(in, &net));
    int64_t sela = ec_block_reward((int)(net - EC_NETWORKS), height);
    out_dec_field(out, 1, "sela", 0, (unsigned __int128)sela);
    return EC_OK;
}

/* -- block locators (ela.p2p.block_locator, ela.p2p.locate_blocks) ------------------------------- */

/* a list of 32-byte hashes (Uint256.from_bytes of each: [ENC-006] after every item is read as hex) */
static int hash_list(arena *a, const jv *in, const char *key, uint8_t **flat, size_t *n) {
    uint8_t **items;
    size_t *lens;
    TRY(in_hex_list(a, in, key, &items, &lens, n));
    return hashes32(a, items, lens, *n, flat);
}

static int h_block_locator(arena *a, const jv *in, ec_buf *out) {
    static const char *const req[] = {"chain", NULL}, *const opt[] = {"height", NULL};
    uint8_t *chain;
    size_t n;
    long long height;
    TRY(in_shape(in, req, opt));
    TRY(hash_list(a, in, "chain", &chain, &n));
    if (n == 0) return EC_MALFORMED_INPUT; /* at least the genesis hash */
    height = (long long)n - 1;
    if (json_get(in, "height")) TRY(in_small_int(in, "height", 0, (long long)n - 1, &height));
    /* BlockLocatorFromHash: the block, ten below it one by one, then doubling steps, then genesis */
    uint8_t *loc = arena_alloc(a, 32 * EC_MAX_LOCATOR_SIZE);
    if (!loc) return EC_INTERNAL_ERROR;
    size_t k = 0;
    long long h = height, step = 1;
    memcpy(loc + 32 * k++, chain + 32 * h, 32);
    if (h != 0) {
        while (k < EC_MAX_LOCATOR_SIZE - 1) {
            if (k > 10) step *= 2;
            h -= step;
            if (h < 1) break;
            memcpy(loc + 32 * k++, chain + 32 * h, 32);
        }
        memcpy(loc + 32 * k++, chain, 32);
    }
    out_hash_list(out, 1, "locator", loc, k);
    return EC_OK;
}

static int h_locate_blocks(arena *a, const jv *in, ec_buf *out) {
    static const char *const req[] = {"chain", "locator", "hash_stop", NULL}, *const opt[] = {"max", NULL};
    static const uint8_t zero[32] = {0};
    uint8_t *chain, *locator, *stop;
    size_t n, nl, sn;
    long long limit = EC_MAX_BLOCKS_PER_MSG;
    TRY(in_shape(in, req, opt));
    if (json_get(in, "max")) TRY(in_small_int(in, "max", 0, EC_MAX_BLOCKS_PER_MSG, &limit));
    TRY(hash_list(a, in, "chain", &chain, &n));
    if (n == 0) return EC_MALFORMED_INPUT; /* at least the genesis hash */
    TRY(hash_list(a, in, "locator", &locator, &nl));
    TRY(in_hex(a, in, "hash_stop", &stop, &sn));
    /* [ENC-006] a hash is exactly 32 bytes */
    if (sn != 32) return EC_WRONG_LENGTH;
    /* the height of a hash: its first occurrence on the chain, or -1 */
    long long start = -1, stop_height = -1;
    for (size_t i = 0; i < nl && start < 0; i++)
        for (size_t h = 0; h < n; h++)
            if (memcmp(locator + 32 * i, chain + 32 * h, 32) == 0) {
                start = (long long)h;
                break;
            }
    if (start < 0) start = 0;
    long long tip = (long long)n - 1, count;
    if (memcmp(stop, zero, 32) == 0) {
        count = tip - start;
    } else {
        for (size_t h = 0; h < n; h++)
            if (memcmp(stop, chain + 32 * h, 32) == 0) {
                stop_height = (long long)h;
                break;
            }
        count = stop_height < 0 || stop_height < start ? 0 : stop_height - start;
    }
    if (count > limit) count = limit;
    if (count < 0) count = 0;
    out_hash_list(out, 1, "hashes", chain + 32 * (start + 1), (size_t)count);
    return EC_OK;
}

const handler_entry chain_handlers[] = {
    {"chain/ela.address.from_pubkey", h_address_from_pubkey},
    {"chain/ela.auxpow.check", h_auxpow_check},
    {"chain/ela.auxpow.decode", h_auxpow_decode},
    {"chain/ela.auxpow.expected_index", h_auxpow_expected_index},
    {"chain/ela.block.decode", h_block_decode},
    {"chain/ela.bits.from_target", h_bits_from_target},
    {"chain/ela.bits.next", h_bits_next},
    {"chain/ela.bits.to_target", h_bits_to_target},
    {"chain/ela.block.sanity", h_block_sanity},
    {"chain/ela.merkle.branch", h_merkle_branch},
    {"chain/ela.merkle.branch_root", h_merkle_branch_root},
    {"chain/ela.merkle.root", h_merkle_root},
    {"chain/ela.p2p.block_locator", h_block_locator},
    {"chain/ela.p2p.locate_blocks", h_locate_blocks},
    {"chain/ela.p2p.decode", h_p2p_decode},
    {"chain/ela.p2p.encode", h_p2p_encode},
    {"chain/ela.p2p.read_header", h_p2p_read_header},
    {"chain/ela.p2p.handshake", h_p2p_handshake},
    {"chain/ela.genesis", h_genesis},
    {"chain/ela.tx.context", h_tx_context},
    {"chain/ela.block.apply", h_block_apply},
    {"chain/ela.fork_choice", h_fork_choice},
    {"chain/ela.pow.check", h_pow_check},
    {"chain/ela.reward", h_reward},
    {"chain/ela.tx.decode", h_tx_decode},
    {"chain/ela.tx.sanity", h_tx_sanity},
    {"chain/ela.tx.set_version", h_tx_set_version},
    {"chain/ela.tx.verify_signatures", h_tx_verify_signatures},
    {"chain/ela.work", h_work},
    {NULL, NULL},
};
