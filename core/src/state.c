/* Chain state: the genesis block, the transaction and block context rules, apply_block and fork
 * choice by most cumulative work (spec/chain/params.py, spec/chain/validation.py,
 * spec/chain/state.py).
 *
 * A state is one chain from genesis to its tip: its headers, its unspent outputs, the output count
 * of every transaction it holds, the sidechain hashes already withdrawn and its cumulative work.
 * Every parameter (the networks, the genesis fields, the type codes) comes from the spec through
 * elastos_tables.h. The unspent outputs, the transactions and the withdrawn hashes are sorted
 * arrays searched by bisection; a block's changes are sorted and merged into them in one copy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elastos_tables.h"
#include "internal.h"

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

typedef __int128 i128;

static int valid_network(int network) { return network >= 0 && network < EC_NETWORKS_COUNT; }

int ec_network_count(void) { return EC_NETWORKS_COUNT; }

/* GetBlockReward in float64, truncated toward zero, as the spec computes it */
int64_t ec_block_reward(int network, uint32_t height) {
    const ec_network_entry *net = &EC_NETWORKS[valid_network(network) ? network : 0];
    if (height < net->new_ela_issuance_height) return (int64_t)((double)EC_INFLATION_PER_YEAR / (double)EC_BLOCKS_PER_YEAR);
    uint64_t factor = 1;
    if (height >= net->halving_reward_height)
        factor = 2 + (height - net->halving_reward_height) / net->halving_reward_interval;
    return (int64_t)ldexp((double)EC_NEW_INFLATION_PER_YEAR / (double)EC_BLOCKS_PER_YEAR, -(int)(factor - 1));
}

static void chain_params(int network, ec_chain_params *p) {
    const ec_network_entry *net = &EC_NETWORKS[network];
    memset(p, 0, sizeof *p);
    memcpy(p->pow_limit, net->pow_limit, 32);
    p->max_tx_per_block = net->max_tx_per_block;
    p->max_block_context_size = net->max_block_context_size;
    p->max_block_header_size = net->max_block_header_size;
    p->max_time_offset = net->max_time_offset;
    p->check_address_height = EC_CHECK_ADDRESS_HEIGHT;
    memcpy(p->ela_asset_id, EC_ELA_ASSET_ID, 32);
    memcpy(p->cr_assets_address, EC_CR_ASSETS_ADDRESS, 21);
    memcpy(p->cr_expenses_address, EC_CR_EXPENSES_ADDRESS, 21);
}

/* -- genesis ------------------------------------------------------------------------------------ */

typedef struct {
    uint8_t *o; /* NULL: sizing only */
    size_t n;
} wr;

static void w_bytes(wr *w, const void *d, size_t n) {
    if (w->o && n) memcpy(w->o + w->n, d, n);
    w->n += n;
}

static void w_uint(wr *w, uint64_t v, int size) {
    uint8_t b[8];
    for (int i = 0; i < size; i++) b[i] = (uint8_t)(v >> (8 * i));
    w_bytes(w, b, (size_t)size);
}

static void w_varbytes(wr *w, const void *d, size_t n) {
    uint8_t vu[9];
    w_bytes(w, vu, ec_varuint_encode(n, vu));
    w_bytes(w, d, n);
}

/* the genesis RegisterAsset transaction (params.ELA_ASSET_TX) */
static void w_asset_tx(wr *w) {
    w_uint(w, EC_TX_REGISTER_ASSET, 1);
    w_uint(w, 0, 1); /* payload version */
    w_varbytes(w, EC_ELA_ASSET_NAME, strlen(EC_ELA_ASSET_NAME));
    w_varbytes(w, EC_ELA_ASSET_DESCRIPTION, sizeof EC_ELA_ASSET_DESCRIPTION - 1);
    w_uint(w, EC_ELA_PRECISION, 1);
    w_uint(w, EC_ELA_ASSET_TYPE, 1);
    w_uint(w, EC_ELA_RECORD_TYPE, 1);
    w_uint(w, (uint64_t)EC_ELA_ASSET_AMOUNT, 8);
    w_bytes(w, EC_ELA_ASSET_CONTROLLER, 21);
    w_uint(w, 0, 1); /* attributes */
    w_uint(w, 0, 1); /* inputs */
    w_uint(w, 0, 1); /* outputs */
    w_uint(w, 0, 4); /* lock time */
    w_uint(w, 0, 1); /* programs */
}

/* the genesis coinbase (params.genesis_coinbase): 33 million ELA to the network's foundation */
static void w_coinbase(wr *w, int network) {
    static const uint8_t zero[32] = {0};
    w_uint(w, EC_TX_COINBASE, 1);
    w_uint(w, EC_GENESIS_COINBASE_PAYLOAD_VERSION, 1);
    w_varbytes(w, "", 0); /* CoinBasePayload content */
    w_uint(w, 1, 1);
    w_uint(w, EC_GENESIS_COINBASE_NONCE_USAGE, 1);
    w_varbytes(w, EC_GENESIS_COINBASE_NONCE, sizeof EC_GENESIS_COINBASE_NONCE);
    w_uint(w, 1, 1);
    w_bytes(w, zero, 32);
    w_uint(w, EC_GENESIS_COINBASE_INDEX, 2);
    w_uint(w, EC_GENESIS_COINBASE_SEQUENCE, 4);
    w_uint(w, 1, 1);
    w_bytes(w, EC_ELA_ASSET_ID, 32);
    w_uint(w, (uint64_t)EC_ORIGIN_ISSUANCE, 8);
    w_uint(w, 0, 4); /* output lock */
    w_bytes(w, EC_STATE_PARAMS[network].foundation, 21);
    w_uint(w, 0, 4); /* lock time */
    w_uint(w, 0, 1); /* programs */
}

int ec_genesis_block(int network, uint8_t *out, size_t cap, size_t *outlen) {
    static const uint8_t zero[EC_ZERO_AUXPOW_SIZE] = {0};
    if (!valid_network(network)) return EC_INTERNAL_ERROR;
    /* the txids: sha256d of the unsigned part, which is the whole encoding but its last byte (the
     * programs' count: neither transaction has a program) */
    uint8_t buf[512], leaves[64], root[32];
    wr t = {buf, 0};
    w_coinbase(&t, network);
    ec_sha256d(buf, t.n - 1, leaves);
    t.n = 0;
    w_asset_tx(&t);
    ec_sha256d(buf, t.n - 1, leaves + 32);
    TRY(ec_merkle_root(leaves, 2, root));
    for (int pass = 0; pass < 2; pass++) {
        wr w = {pass ? out : NULL, 0};
        w_uint(&w, 0, 4); /* version */
        w_bytes(&w, zero, 32);
        w_bytes(&w, root, 32);
        w_uint(&w, EC_GENESIS_TIMESTAMP, 4);
        w_uint(&w, EC_GENESIS_BITS, 4);
        w_uint(&w, EC_GENESIS_NONCE, 4);
        w_uint(&w, 0, 4); /* height */
        w_bytes(&w, zero, EC_ZERO_AUXPOW_SIZE);
        w_uint(&w, EC_HEADER_TRAILER, 1);
        w_uint(&w, 2, 4);
        w_coinbase(&w, network);
        w_asset_tx(&w);
        *outlen = w.n;
        if (!out) return EC_OK;
        if (!pass && cap < w.n) return EC_INTERNAL_ERROR;
    }
    return EC_OK;
}

/* -- the state's containers ---------------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t n, size_t size) {
    if (n < *cap) return EC_OK;
    size_t c = *cap ? 2 * *cap : 16;
    void *q = realloc(*p, c * size);
    if (!q) return EC_INTERNAL_ERROR;
    *p = q;
    *cap = c;
    return EC_OK;
}

void ec_state_init(ec_chain_state *s, int network) {
    memset(s, 0, sizeof *s);
    s->network = network;
}

void ec_state_free(ec_chain_state *s) {
    free(s->headers);
    free(s->utxos);
    free(s->txs);
    free(s->withdrawn);
    int network = s->network;
    memset(s, 0, sizeof *s);
    s->network = network;
}

static int dup_array(void **dst, size_t *cap, const void *src, size_t n, size_t size) {
    *dst = NULL;
    *cap = 0;
    if (!n) return EC_OK;
    *dst = malloc(n * size);
    if (!*dst) return EC_INTERNAL_ERROR;
    memcpy(*dst, src, n * size);
    *cap = n;
    return EC_OK;
}

int ec_state_copy(const ec_chain_state *src, ec_chain_state *dst) {
    *dst = *src;
    int rc = dup_array((void **)&dst->headers, &dst->cap_headers, src->headers, src->n_headers, sizeof *src->headers);
    if (!rc) rc = dup_array((void **)&dst->utxos, &dst->cap_utxos, src->utxos, src->n_utxos, sizeof *src->utxos);
    if (!rc) rc = dup_array((void **)&dst->txs, &dst->cap_txs, src->txs, src->n_txs, sizeof *src->txs);
    if (!rc) rc = dup_array((void **)&dst->withdrawn, &dst->cap_withdrawn, src->withdrawn, src->n_withdrawn, 32);
    if (rc) {
        /* free only what was copied here: the source's arrays are not ours */
        if (dst->headers == src->headers) dst->headers = NULL;
        if (dst->utxos == src->utxos) dst->utxos = NULL;
        if (dst->txs == src->txs) dst->txs = NULL;
        if (dst->withdrawn == src->withdrawn) dst->withdrawn = NULL;
        ec_state_free(dst);
    }
    return rc;
}

/* The unspent outputs are kept sorted by (txid, index), the transactions by txid and the withdrawn
 * hashes by value, each key once: lookups are binary searches. Additions are appended and then
 * merged by ec_state_normalize (sort, and of equal keys the later wins, as a dict's update), so a
 * bulk load or a block's outputs cost O(n log n), not a scan per item. */

static int utxo_order(const void *x, const void *y) {
    const ec_utxo *a = x, *b = y;
    int c = memcmp(a->txid, b->txid, 32);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

static int tx_order(const void *x, const void *y) { return memcmp(((const ec_tx_count *)x)->txid, ((const ec_tx_count *)y)->txid, 32); }

static int hash_order(const void *x, const void *y) { return memcmp(x, y, 32); }

static ec_utxo *find_utxo(const ec_chain_state *s, const uint8_t *txid, uint16_t index) {
    ec_utxo key;
    memcpy(key.txid, txid, 32);
    key.index = index;
    return s->n_utxos ? bsearch(&key, s->utxos, s->n_utxos, sizeof *s->utxos, utxo_order) : NULL;
}

const ec_utxo *ec_state_utxo(const ec_chain_state *s, const uint8_t *txid, uint16_t index) {
    return find_utxo(s, txid, index);
}

/* the output count of a transaction of the chain, or -1 */
static long output_count(const ec_chain_state *s, const uint8_t *txid) {
    ec_tx_count key;
    memcpy(key.txid, txid, 32);
    const ec_tx_count *e = s->n_txs ? bsearch(&key, s->txs, s->n_txs, sizeof *s->txs, tx_order) : NULL;
    return e ? (long)e->count : -1;
}

long ec_state_output_count(const ec_chain_state *s, const uint8_t *txid) { return output_count(s, txid); }

static int withdrawn(const ec_chain_state *s, const uint8_t *h) {
    return s->n_withdrawn && bsearch(h, s->withdrawn, s->n_withdrawn, 32, hash_order) != NULL;
}

/* sort `n` items of `size` bytes by `cmp`, keeping of equal keys the one appended last */
static _Thread_local struct {
    const uint8_t *base;
    size_t size;
    int (*cmp)(const void *, const void *);
} sort_ctx;

static int position_order(const void *x, const void *y) {
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    int c = sort_ctx.cmp(sort_ctx.base + a * sort_ctx.size, sort_ctx.base + b * sort_ctx.size);
    return c ? c : (a > b) - (a < b);
}

static int normalize(void **arr, size_t *n, size_t *cap, size_t size, int (*cmp)(const void *, const void *)) {
    if (*n < 2) return EC_OK;
    size_t *idx = malloc(*n * sizeof *idx);
    uint8_t *out = malloc(*n * size);
    if (!idx || !out) {
        free(idx);
        free(out);
        return EC_INTERNAL_ERROR;
    }
    for (size_t i = 0; i < *n; i++) idx[i] = i;
    sort_ctx.base = *arr;
    sort_ctx.size = size;
    sort_ctx.cmp = cmp;
    qsort(idx, *n, sizeof *idx, position_order);
    const uint8_t *base = *arr;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        /* the last of a run of equal keys */
        if (i + 1 < *n && cmp(base + idx[i] * size, base + idx[i + 1] * size) == 0) continue;
        memcpy(out + k++ * size, base + idx[i] * size, size);
    }
    free(idx);
    free(*arr);
    *arr = out;
    *cap = *n; /* what `out` holds room for */
    *n = k;
    return EC_OK;
}

int ec_state_normalize(ec_chain_state *s) {
    TRY(normalize((void **)&s->utxos, &s->n_utxos, &s->cap_utxos, sizeof *s->utxos, utxo_order));
    TRY(normalize((void **)&s->txs, &s->n_txs, &s->cap_txs, sizeof *s->txs, tx_order));
    return normalize((void **)&s->withdrawn, &s->n_withdrawn, &s->cap_withdrawn, 32, hash_order);
}

int ec_state_add_utxo(ec_chain_state *s, const ec_utxo *u) {
    TRY(grow((void **)&s->utxos, &s->cap_utxos, s->n_utxos, sizeof *s->utxos));
    s->utxos[s->n_utxos++] = *u;
    return EC_OK;
}

int ec_state_add_tx_count(ec_chain_state *s, const uint8_t *txid, uint32_t count) {
    TRY(grow((void **)&s->txs, &s->cap_txs, s->n_txs, sizeof *s->txs));
    memcpy(s->txs[s->n_txs].txid, txid, 32);
    s->txs[s->n_txs++].count = count;
    return EC_OK;
}

int ec_state_add_withdrawn(ec_chain_state *s, const uint8_t *h) {
    TRY(grow((void **)&s->withdrawn, &s->cap_withdrawn, s->n_withdrawn, 32));
    memcpy(s->withdrawn + 32 * s->n_withdrawn++, h, 32);
    return EC_OK;
}

void ec_state_sort_utxos(ec_chain_state *s) {
    if (s->n_utxos > 1) qsort(s->utxos, s->n_utxos, sizeof *s->utxos, utxo_order);
}

/* 512-bit big-endian addition: the cumulative work */
static void work_add(uint8_t *acc64, const uint8_t *w32) {
    unsigned carry = 0;
    for (int i = 63; i >= 0; i--) {
        unsigned v = acc64[i] + carry + (i >= 32 ? w32[i - 32] : 0);
        acc64[i] = (uint8_t)v;
        carry = v >> 8;
    }
}

/* -- transaction context (check_tx_context) ------------------------------------------------------ */

static int is_new_sidechain_pow(const ec_tx *tx) { return tx->type == EC_TX_SIDECHAIN_POW && tx->n_inputs == 0; }

static int read_i64(ec_reader *r, int64_t *v) {
    uint64_t u;
    TRY(ec_read_u64(r, &u));
    *v = (int64_t)u;
    return EC_OK;
}

/* a CrossChainOutput's target amount: version u8, target address VarString, target amount i64 */
static int cross_chain_target_amount(const ec_output *o, int64_t *amount) {
    ec_reader r = {o->payload, o->payload_len, 0};
    const uint8_t *d;
    size_t n;
    if (!o->payload) return EC_INTERNAL_ERROR;
    TRY(ec_read(&r, 1, NULL));
    TRY(ec_read_varbytes(&r, UINT64_MAX, &d, &n));
    return read_i64(&r, amount);
}

typedef struct {
    const uint8_t *address;
    size_t address_len;
    uint64_t index;
    int64_t amount;
} deposit_entry;

static int entry_by_index(const void *x, const void *y) {
    const deposit_entry *a = x, *b = y;
    return (a->index > b->index) - (a->index < b->index);
}

static int entry_by_address(const void *x, const void *y) {
    const deposit_entry *a = x, *b = y;
    size_t n = a->address_len < b->address_len ? a->address_len : b->address_len;
    int c = n ? memcmp(a->address, b->address, n) : 0;
    return c ? c : (a->address_len > b->address_len) - (a->address_len < b->address_len);
}

/* TransferCrossChainAsset v0 payload: count, then (address VarString, output index VarUint, amount i64) */
static int read_deposit_entries(const ec_tx *tx, deposit_entry **out, size_t *n) {
    ec_reader r = {tx->payload, tx->payload_len, 0};
    uint64_t count;
    *out = NULL;
    *n = 0;
    TRY(ec_read_varuint(&r, &count));
    if (count > tx->payload_len) return EC_INTERNAL_ERROR; /* the decoder read them all */
    *out = calloc(count ? count : 1, sizeof **out);
    if (!*out) return EC_INTERNAL_ERROR;
    for (uint64_t i = 0; i < count; i++) {
        deposit_entry *e = &(*out)[i];
        int rc = ec_read_varbytes(&r, UINT64_MAX, &e->address, &e->address_len);
        if (!rc) rc = ec_read_varuint(&r, &e->index);
        if (!rc) rc = read_i64(&r, &e->amount);
        if (rc) {
            free(*out);
            *out = NULL;
            return rc;
        }
    }
    *n = (size_t)count;
    return EC_OK;
}

static int check_deposit(const ec_tx *tx, uint32_t height, i128 fee, const ec_state_params *sp) {
    int v1 = height > sp->new_cross_chain_start_height;
    /* [TXC-017] payload version 0 up to NewCrossChainStartHeight, 1 above it */
    if (tx->payload_version != (v1 ? 1 : 0)) return EC_TX_HEIGHT_VERSION;
    i128 minimum = sp->min_cross_chain_tx_fee;
    if (v1) {
        size_t deposits = 0;
        int well_formed = tx->version >= 0x09;
        for (size_t i = 0; i < tx->n_outputs; i++) {
            const ec_output *o = &tx->outputs[i];
            if (o->type != EC_OUTPUT_NONE && o->type != EC_OUTPUT_CROSS_CHAIN) well_formed = 0;
            if (o->type == EC_OUTPUT_CROSS_CHAIN) {
                deposits++;
                if (o->program_hash[0] != EC_PREFIX_CROSSCHAIN) well_formed = 0;
            }
        }
        /* [TXC-018] v1: a version >= 0x09 transaction with X-prefixed OTCrossChain outputs */
        if (!well_formed || deposits == 0) return EC_TX_CROSS_CHAIN_PAYLOAD;
        for (size_t i = 0; i < tx->n_outputs; i++) {
            const ec_output *o = &tx->outputs[i];
            if (o->type != EC_OUTPUT_CROSS_CHAIN) continue;
            /* [TXC-021] no deposit to the retired DID sidechain */
            if (height >= sp->prohibit_transfer_to_did_height && memcmp(o->program_hash, sp->did_sidechain_address, 21) == 0)
                return EC_TX_CROSS_CHAIN_RETIRED_TARGET;
            int64_t target;
            TRY(cross_chain_target_amount(o, &target));
            /* [TXC-019] v1: the output covers the fee and the target amount */
            if ((i128)o->value < minimum + target) return EC_TX_CROSS_CHAIN_AMOUNT;
        }
        return EC_OK;
    }
    deposit_entry *e, *sorted = NULL;
    size_t n;
    TRY(read_deposit_entries(tx, &e, &n));
    int ok = n > 0 && n <= tx->n_outputs, rc = EC_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = e[i].index < tx->n_outputs && e[i].address_len > 0 &&
             tx->outputs[e[i].index].program_hash[0] == EC_PREFIX_CROSSCHAIN;
    if (ok && n > 1) { /* distinct indexes and distinct addresses, found by sorting copies */
        sorted = malloc(n * sizeof *sorted);
        if (!sorted) rc = EC_INTERNAL_ERROR;
        if (sorted) {
            memcpy(sorted, e, n * sizeof *e);
            qsort(sorted, n, sizeof *sorted, entry_by_index);
            for (size_t i = 1; ok && i < n; i++) ok = sorted[i].index != sorted[i - 1].index;
            qsort(sorted, n, sizeof *sorted, entry_by_address);
            for (size_t i = 1; ok && i < n; i++) ok = entry_by_address(&sorted[i], &sorted[i - 1]) != 0;
        }
    }
    /* [TXC-018] v0: distinct in-range indexes, distinct non-empty addresses, X-prefixed outputs */
    if (rc == EC_OK && !ok) rc = EC_TX_CROSS_CHAIN_PAYLOAD;
    for (size_t i = 0; rc == EC_OK && i < n; i++)
        /* [TXC-019] v0: 0 <= amount <= output value - MinCrossChainTxFee */
        if (e[i].amount < 0 || (i128)e[i].amount > (i128)tx->outputs[e[i].index].value - minimum)
            rc = EC_TX_CROSS_CHAIN_AMOUNT;
    /* [TXC-020] v0: the fee is at least MinCrossChainTxFee */
    if (rc == EC_OK && fee < minimum) rc = EC_TX_CROSS_CHAIN_FEE;
    free(sorted);
    free(e);
    return rc;
}

static int arbiter_in(const ec_chain_state *v, const uint8_t *key33) {
    for (size_t i = 0; i < v->n_arbiters; i++)
        if (v->arbiters[i].len == 33 && memcmp(v->arbiters[i].key, key33, 33) == 0) return 1;
    return 0;
}

static int key_in(const ec_script *s, const uint8_t *key, size_t len) {
    for (int i = 0; i < s->n && len == 33; i++)
        if (memcmp(s->keys[i], key, 33) == 0) return 1;
    return 0;
}

static int arbiter_order(const void *x, const void *y) {
    const ec_arbiter *a = x, *b = y;
    if (a->len != b->len) return (a->len > b->len) - (a->len < b->len);
    return a->len ? memcmp(a->key, b->key, a->len) : 0;
}

static int check_arbiters(const ec_tx *tx, const ec_chain_state *v) {
    /* the distinct arbiters, counted on a sorted copy */
    size_t distinct = 0;
    if (v->n_arbiters) {
        ec_arbiter *sorted = malloc(v->n_arbiters * sizeof *sorted);
        if (!sorted) return EC_INTERNAL_ERROR;
        memcpy(sorted, v->arbiters, v->n_arbiters * sizeof *sorted);
        qsort(sorted, v->n_arbiters, sizeof *sorted, arbiter_order);
        for (size_t i = 0; i < v->n_arbiters; i++) distinct += i == 0 || arbiter_order(&sorted[i - 1], &sorted[i]) != 0;
        free(sorted);
    }
    int threshold = (int)(distinct * 2 / 3 + 1);
    for (size_t i = 0; i < tx->n_programs; i++) {
        ec_script s;
        if (ec_script_parse(tx->programs[i].code, tx->programs[i].code_len, &s) != EC_OK) continue;
        if (s.kind != 2) continue; /* crosschain */
        int same = distinct > 0;
        for (int k = 0; same && k < s.n; k++) same = arbiter_in(v, s.keys[k]);
        for (size_t k = 0; same && k < v->n_arbiters; k++) same = key_in(&s, v->arbiters[k].key, v->arbiters[k].len);
        /* [TXC-016] the arbiters' keys, with m >= floor(2n/3) + 1 */
        if (!same || s.m < threshold) return EC_TX_CROSS_CHAIN_ARBITERS;
    }
    return EC_OK;
}

static int check_sidechain_pow(const ec_tx *tx, uint32_t height, const ec_chain_state *v) {
    /* [TXC-022] somebody is on duty */
    if (v->n_arbiters == 0) return EC_TX_SIDECHAIN_POW_NO_ARBITER;
    /* getNextOnDutyArbitratorV0(height): (height - 1) mod n, with Python's modulo at height 0 */
    size_t duty = height == 0 ? v->n_arbiters - 1 : (size_t)((height - 1) % v->n_arbiters);
    const ec_arbiter *arb = &v->arbiters[duty];
    ec_reader r = {tx->payload, tx->payload_len, 0};
    const uint8_t *unsigned_part, *sig;
    size_t sig_len;
    TRY(ec_read(&r, 68, &unsigned_part));
    TRY(ec_read_varbytes(&r, UINT64_MAX, &sig, &sig_len));
    /* [TXC-023] the on-duty arbiter signed the payload's first 68 bytes */
    if (ec_ecdsa_verify(arb->key, arb->len, unsigned_part, 68, sig, sig_len) != EC_OK) return EC_TX_SIDECHAIN_POW_SIGNATURE;
    return EC_OK;
}

int ec_tx_context(const ec_tx *tx, uint32_t height, const ec_chain_state *view, int64_t *fee_out) {
    const ec_state_params *sp = &EC_STATE_PARAMS[view->network];
    *fee_out = 0;
    /* [TXC-001] the txid is not already in the chain */
    if (output_count(view, tx->txid) >= 0) return EC_TX_DUPLICATE;
    const ec_utxo **entries = malloc((tx->n_inputs ? tx->n_inputs : 1) * sizeof *entries);
    uint8_t *phs = malloc(21 * (tx->n_inputs ? tx->n_inputs : 1));
    int rc = entries && phs ? EC_OK : EC_INTERNAL_ERROR;
    for (size_t i = 0; rc == EC_OK && i < tx->n_inputs; i++) {
        const ec_input *in = &tx->inputs[i];
        entries[i] = find_utxo(view, in->txid, in->index);
        if (entries[i]) continue;
        long count = output_count(view, in->txid);
        /* [TXC-002] the referenced output exists in the chain */
        if (count < 0 || in->index >= count) rc = EC_TX_UNKNOWN_REFERENCE;
        /* [TXC-003] the referenced output is not spent */
        else rc = EC_TX_DOUBLE_SPEND;
    }
    for (size_t i = 0; rc == EC_OK && i < tx->n_inputs; i++) {
        uint32_t lock = entries[i]->output_lock;
        /* [TXC-004] a locked output needs sequence 0xFFFFFFFE and a lock time past the lock */
        if (lock != 0 && (tx->inputs[i].sequence != EC_UNLOCK_SEQUENCE || tx->lock_time < lock)) rc = EC_TX_UTXO_LOCKED;
    }
    if (rc == EC_OK && tx->type == EC_TX_SIDECHAIN_POW) {
        rc = check_sidechain_pow(tx, height, view);
        if (rc == EC_OK && is_new_sidechain_pow(tx)) { /* SpecialContextCheck ends here: no fee is due */
            free(entries);
            free(phs);
            return EC_OK;
        }
    }
    i128 fee = 0;
    for (size_t i = 0; rc == EC_OK && i < tx->n_inputs; i++) fee += entries[i]->value;
    for (size_t i = 0; rc == EC_OK && i < tx->n_outputs; i++) fee -= tx->outputs[i].value;
    if (rc == EC_OK && tx->type == EC_TX_TRANSFER_CROSS_CHAIN_ASSET) rc = check_deposit(tx, height, fee, sp);
    /* [TXC-005] the fee is at least MinTransactionFee */
    if (rc == EC_OK && fee < sp->min_transaction_fee) rc = EC_TX_FEE_TOO_LOW;
    for (size_t i = 0; rc == EC_OK && i < tx->n_inputs; i++) {
        const uint8_t *ph = entries[i]->program_hash;
        /* [TXC-006] nothing is spent from the destroy address */
        if (memcmp(ph, EC_DESTROY_ADDRESS, 21) == 0) rc = EC_TX_SPENDS_DESTROY_ADDRESS;
        /* [TXC-007] no deposit output is spent */
        else if (ph[0] == EC_PREFIX_DEPOSIT) rc = EC_TX_DEPOSIT_UTXO;
        /* [TXC-009] only WithdrawFromSideChain spends a cross-chain output */
        else if (ph[0] == EC_PREFIX_CROSSCHAIN && tx->type != EC_TX_WITHDRAW_FROM_SIDECHAIN) rc = EC_TX_CROSS_CHAIN_UTXO;
    }
    for (size_t i = 0; rc == EC_OK && i < tx->n_outputs; i++)
        /* [TXC-008] no output pays a deposit address */
        if (tx->outputs[i].program_hash[0] == EC_PREFIX_DEPOSIT) rc = EC_TX_DEPOSIT_OUTPUT;
    if (rc == EC_OK) {
        for (size_t i = 0; i < tx->n_inputs; i++) memcpy(phs + 21 * i, entries[i]->program_hash, 21);
        rc = ec_check_signatures(tx, phs, tx->n_inputs);
    }
    if (rc == EC_OK && tx->type == EC_TX_WITHDRAW_FROM_SIDECHAIN) {
        if (tx->payload_version == 0)
            for (size_t i = 0; rc == EC_OK && i < tx->n_sidechain_hashes; i++)
                /* [TXC-024] a sidechain transaction is withdrawn once */
                if (withdrawn(view, tx->sidechain_hashes + 32 * i)) rc = EC_TX_WITHDRAW_DUPLICATE;
        if (rc == EC_OK) rc = check_arbiters(tx, view);
    }
    for (size_t i = 0; rc == EC_OK && i < tx->n_inputs; i++) {
        const ec_utxo *e = entries[i];
        /* [TXC-013] a coinbase output is mature (the difference wraps as a u32) */
        if (e->coinbase && (uint32_t)(height - 1u - e->tx_lock_time) < sp->coinbase_maturity) rc = EC_COINBASE_IMMATURE;
        /* [TXC-014] no new-style SideChainPow output is spent */
        else if (e->new_sidechain_pow) rc = EC_TX_SPENDS_SIDECHAIN_POW;
    }
    for (size_t i = 0; rc == EC_OK && i < tx->n_outputs; i++)
        /* [TXC-015] no vote outputs in this profile */
        if (tx->version >= 0x09 && tx->outputs[i].type == EC_OUTPUT_VOTE) rc = EC_TX_VOTE_NOT_IN_PROFILE;
    free(entries);
    free(phs);
    if (rc == EC_OK) {
        if (fee > INT64_MAX || fee < INT64_MIN) return EC_INTERNAL_ERROR;
        *fee_out = (int64_t)fee;
    }
    return rc;
}

/* -- block context (check_block_context) ------------------------------------------------------------- */

static int u32_order(const void *x, const void *y) {
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

static int expected_bits(const ec_chain_state *v, uint32_t *bits) {
    const ec_network_entry *net = &EC_NETWORKS[v->network];
    const ec_header_info *tip = &v->headers[v->n_headers - 1];
    ec_retarget r;
    memcpy(r.pow_limit, net->pow_limit, 32);
    r.pow_limit_bits = net->pow_limit_bits;
    r.target_timespan = net->target_timespan;
    r.target_time_per_block = net->target_time_per_block;
    r.adjustment_factor = net->adjustment_factor;
    uint64_t blocks = r.target_timespan / r.target_time_per_block;
    int instant = r.pow_limit_bits == 0x207FFFFFu, has_first = 0;
    uint32_t first = 0;
    if (tip->height != 0 && !instant && blocks && ((uint64_t)tip->height + 1) % blocks == 0) {
        int64_t h = (int64_t)tip->height - (int64_t)(blocks - 1);
        if (h >= 0 && (uint64_t)h < v->n_headers) {
            first = v->headers[h].timestamp;
            has_first = 1;
        }
    }
    return ec_next_required_bits(&r, tip->height, tip->bits, tip->timestamp, has_first, first, bits);
}

static uint32_t median_time_past(const ec_chain_state *v, uint32_t span) {
    uint32_t stamps[64];
    size_t n = 0;
    const ec_header_info *tip = &v->headers[v->n_headers - 1];
    for (int64_t h = tip->height; h > (int64_t)tip->height - span && h >= 0 && n < 64; h--)
        stamps[n++] = v->headers[h].timestamp;
    qsort(stamps, n, sizeof *stamps, u32_order);
    return stamps[n / 2];
}

static int is_final(const ec_tx *tx, uint32_t height) {
    if (tx->lock_time == 0 || tx->lock_time < height) return 1;
    for (size_t i = 0; i < tx->n_inputs; i++)
        if (tx->inputs[i].sequence != EC_FINAL_SEQUENCE) return 0;
    return 1;
}

int ec_block_context(const ec_block *b, const ec_chain_state *v) {
    const ec_header *h = &b->header;
    const ec_state_params *sp = &EC_STATE_PARAMS[v->network];
    if (v->n_headers == 0 || v->n_headers != (size_t)v->headers[v->n_headers - 1].height + 1) return EC_INTERNAL_ERROR;
    const ec_header_info *tip = &v->headers[v->n_headers - 1];
    uint32_t bits;
    /* [BLC-001] the height follows the parent's */
    if ((uint64_t)h->height != (uint64_t)tip->height + 1) return EC_BLOCK_BAD_HEIGHT;
    TRY(expected_bits(v, &bits));
    /* [BLC-002] the bits are the required ones */
    if (h->bits != bits) return EC_BLOCK_BAD_BITS;
    /* [BLC-003] not before the median time past (equal is accepted) */
    if (h->timestamp < median_time_past(v, sp->median_time_span)) return EC_BLOCK_TIME_TOO_OLD;
    for (size_t i = 1; i < b->n_txs; i++)
        /* [BLC-004] every non-coinbase transaction is final */
        if (!is_final(&b->txs[i], h->height)) return EC_TX_NOT_FINAL;
    i128 fees = 0, coinbase = 0;
    for (size_t i = 1; i < b->n_txs; i++) {
        int64_t fee;
        TRY(ec_tx_context(&b->txs[i], h->height, v, &fee));
        fees += fee;
    }
    for (size_t k = 0; b->n_txs && k < b->txs[0].n_outputs; k++) coinbase += b->txs[0].outputs[k].value;
    /* [BLC-005] the coinbase pays exactly reward plus fees */
    if (coinbase - fees != (i128)ec_block_reward(v->network, h->height)) return EC_COINBASE_BAD_REWARD;
    return EC_OK;
}

/* -- apply_block ------------------------------------------------------------------------------------------ */

/* What connecting a block changed, so that the fork choice's working state can undo it: the
 * outputs it spent and the entries its outputs and transactions replaced (a coinbase may repeat an
 * earlier txid), and the withdrawn hashes it added. The keys it added are the block's own. */
typedef struct {
    ec_utxo *utxos;
    size_t n_utxos, cap_utxos;
    ec_tx_count *txs;
    size_t n_txs, cap_txs;
    uint8_t *withdrawn;
    size_t n_withdrawn, cap_withdrawn;
} block_undo;

static void undo_free(block_undo *u) {
    if (!u) return;
    free(u->utxos);
    free(u->txs);
    free(u->withdrawn);
    free(u);
}

static int undo_utxo(block_undo *u, const ec_utxo *e) {
    if (!u) return EC_OK;
    TRY(grow((void **)&u->utxos, &u->cap_utxos, u->n_utxos, sizeof *u->utxos));
    u->utxos[u->n_utxos++] = *e;
    return EC_OK;
}

/* merge the items appended after the first `sorted` (sorted, one per key) into them, of equal keys
 * the later winning as in ec_state_normalize: the tail is sorted, each tail item's place is found
 * by bisection, and the array is filled from its end, moving each run of the prefix once, in place.
 * A block's few additions cost one move of the part of the array after the first of them, not a
 * sort of it (nor a fresh allocation, whose pages would be faulted in at every block). */
static int merge_tail(void **arr, size_t sorted, size_t *n, size_t *cap, size_t size, int (*cmp)(const void *, const void *)) {
    size_t k = *n - sorted;
    if (k == 0) return EC_OK;
    if (sorted == 0) return normalize(arr, n, cap, size, cmp);
    uint8_t *base = *arr;
    size_t *idx = malloc(k * sizeof *idx), *pos = malloc(k * sizeof *pos);
    uint8_t *tail = malloc(k * size), *eq = malloc(k);
    int rc = idx && pos && tail && eq ? EC_OK : EC_INTERNAL_ERROR;
    if (rc == EC_OK) {
        for (size_t i = 0; i < k; i++) idx[i] = sorted + i;
        sort_ctx.base = base;
        sort_ctx.size = size;
        sort_ctx.cmp = cmp;
        qsort(idx, k, sizeof *idx, position_order);
        size_t m = 0, replaced = 0, lo = 0;
        for (size_t i = 0; i < k; i++) /* the last of a run of equal keys */
            if (i + 1 == k || cmp(base + idx[i] * size, base + idx[i + 1] * size) != 0) memcpy(tail + m++ * size, base + idx[i] * size, size);
        for (size_t j = 0; j < m; j++) { /* the first prefix item not below tail[j] */
            size_t hi = sorted;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cmp(base + mid * size, tail + j * size) < 0) lo = mid + 1;
                else hi = mid;
            }
            pos[j] = lo;
            eq[j] = lo < sorted && cmp(base + lo * size, tail + j * size) == 0;
            replaced += eq[j];
        }
        size_t total = sorted + m - replaced, end = sorted, w = total;
        for (size_t j = m; j-- > 0;) {
            size_t from = pos[j] + eq[j]; /* a replaced prefix item is dropped */
            w -= end - from;
            memmove(base + w * size, base + from * size, (end - from) * size);
            memcpy(base + --w * size, tail + j * size, size);
            end = pos[j];
        }
        *n = total;
    }
    free(idx);
    free(pos);
    free(tail);
    free(eq);
    return rc;
}

/* drop the items whose `gone` flag is set, keeping the order */
static void drop_marked(void *arr, size_t *n, size_t size, const uint8_t *gone) {
    uint8_t *base = arr;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (!gone[i]) {
            if (k != i) memcpy(base + k * size, base + i * size, size);
            k++;
        }
    *n = k;
}

/* the spent outpoints of a block's non-coinbase transactions, removed in one pass (and kept in `u`) */
static int remove_spent(ec_chain_state *s, const ec_block *b, block_undo *u) {
    size_t n = 0;
    for (size_t t = 1; t < b->n_txs; t++) n += b->txs[t].n_inputs;
    if (n == 0) return EC_OK;
    uint8_t *gone = calloc(s->n_utxos ? s->n_utxos : 1, 1);
    if (!gone) return EC_INTERNAL_ERROR;
    for (size_t t = 1; t < b->n_txs; t++)
        for (size_t i = 0; i < b->txs[t].n_inputs; i++) {
            const ec_utxo *e = find_utxo(s, b->txs[t].inputs[i].txid, b->txs[t].inputs[i].index);
            if (!e || undo_utxo(u, e) != EC_OK) { /* a validated block spends only unspent outputs */
                free(gone);
                return EC_INTERNAL_ERROR;
            }
            gone[e - s->utxos] = 1;
        }
    drop_marked(s->utxos, &s->n_utxos, sizeof *s->utxos, gone);
    free(gone);
    return EC_OK;
}

/* connect_block: spend the inputs, add the outputs, the transactions, the header and the work;
 * with `u`, record what the block replaced */
static int connect_block(ec_chain_state *s, const ec_block *b, block_undo *u) {
    uint8_t work[32];
    TRY(remove_spent(s, b, u));
    size_t n_utxos = s->n_utxos, n_txs = s->n_txs, n_withdrawn = s->n_withdrawn;
    for (size_t t = 0; u && t < b->n_txs; t++) {
        const ec_tx *tx = &b->txs[t];
        for (size_t i = 0; i < tx->n_outputs; i++) {
            const ec_utxo *old = find_utxo(s, tx->txid, (uint16_t)i);
            if (old) TRY(undo_utxo(u, old));
        }
        ec_tx_count key;
        memcpy(key.txid, tx->txid, 32);
        const ec_tx_count *c = s->n_txs ? bsearch(&key, s->txs, s->n_txs, sizeof *s->txs, tx_order) : NULL;
        if (c) {
            TRY(grow((void **)&u->txs, &u->cap_txs, u->n_txs, sizeof *u->txs));
            u->txs[u->n_txs++] = *c;
        }
        if (tx->type == EC_TX_WITHDRAW_FROM_SIDECHAIN && tx->payload_version == 0)
            for (size_t i = 0; i < tx->n_sidechain_hashes; i++)
                if (!withdrawn(s, tx->sidechain_hashes + 32 * i)) {
                    TRY(grow((void **)&u->withdrawn, &u->cap_withdrawn, u->n_withdrawn, 32));
                    memcpy(u->withdrawn + 32 * u->n_withdrawn++, tx->sidechain_hashes + 32 * i, 32);
                }
    }
    for (size_t t = 0; t < b->n_txs; t++) {
        const ec_tx *tx = &b->txs[t];
        for (size_t i = 0; i < tx->n_outputs; i++) {
            ec_utxo e;
            memset(&e, 0, sizeof e);
            memcpy(e.txid, tx->txid, 32);
            e.index = (uint16_t)i;
            e.value = tx->outputs[i].value;
            e.output_lock = tx->outputs[i].output_lock;
            memcpy(e.program_hash, tx->outputs[i].program_hash, 21);
            e.height = b->header.height;
            e.coinbase = tx->type == EC_TX_COINBASE;
            e.tx_lock_time = tx->lock_time;
            e.new_sidechain_pow = is_new_sidechain_pow(tx);
            TRY(ec_state_add_utxo(s, &e));
        }
    }
    for (size_t t = 0; t < b->n_txs; t++) {
        const ec_tx *tx = &b->txs[t];
        TRY(ec_state_add_tx_count(s, tx->txid, (uint32_t)tx->n_outputs));
        if (tx->type == EC_TX_WITHDRAW_FROM_SIDECHAIN && tx->payload_version == 0)
            for (size_t i = 0; i < tx->n_sidechain_hashes; i++) TRY(ec_state_add_withdrawn(s, tx->sidechain_hashes + 32 * i));
    }
    TRY(merge_tail((void **)&s->utxos, n_utxos, &s->n_utxos, &s->cap_utxos, sizeof *s->utxos, utxo_order));
    TRY(merge_tail((void **)&s->txs, n_txs, &s->n_txs, &s->cap_txs, sizeof *s->txs, tx_order));
    TRY(merge_tail((void **)&s->withdrawn, n_withdrawn, &s->n_withdrawn, &s->cap_withdrawn, 32, hash_order));
    TRY(grow((void **)&s->headers, &s->cap_headers, s->n_headers, sizeof *s->headers));
    ec_header_info *hi = &s->headers[s->n_headers++];
    memcpy(hi->hash, b->header.hash, 32);
    hi->height = b->header.height;
    hi->timestamp = b->header.timestamp;
    hi->bits = b->header.bits;
    TRY(ec_calc_work_bytes(b->header.bits, work));
    work_add(s->work, work);
    return EC_OK;
}

/* undo connect_block(s, b, u): drop what the block added, put back what it spent or replaced, and
 * return to the parent's header count and work (`parent_work`) */
static int disconnect_block(ec_chain_state *s, const ec_block *b, const block_undo *u, const uint8_t *parent_work) {
    uint8_t *gone = calloc(s->n_utxos ? s->n_utxos : 1, 1);
    if (!gone) return EC_INTERNAL_ERROR;
    for (size_t t = 0; t < b->n_txs; t++)
        for (size_t i = 0; i < b->txs[t].n_outputs; i++) {
            const ec_utxo *e = find_utxo(s, b->txs[t].txid, (uint16_t)i);
            if (e) gone[e - s->utxos] = 1; /* all present: no block spends its own outputs */
        }
    drop_marked(s->utxos, &s->n_utxos, sizeof *s->utxos, gone);
    free(gone);
    gone = calloc(s->n_txs ? s->n_txs : 1, 1);
    if (!gone) return EC_INTERNAL_ERROR;
    for (size_t t = 0; t < b->n_txs; t++) {
        ec_tx_count key;
        memcpy(key.txid, b->txs[t].txid, 32);
        const ec_tx_count *c = s->n_txs ? bsearch(&key, s->txs, s->n_txs, sizeof *s->txs, tx_order) : NULL;
        if (c) gone[c - s->txs] = 1;
    }
    drop_marked(s->txs, &s->n_txs, sizeof *s->txs, gone);
    free(gone);
    if (u->n_withdrawn) {
        gone = calloc(s->n_withdrawn ? s->n_withdrawn : 1, 1);
        if (!gone) return EC_INTERNAL_ERROR;
        for (size_t i = 0; i < u->n_withdrawn; i++) {
            const uint8_t *w = s->n_withdrawn ? bsearch(u->withdrawn + 32 * i, s->withdrawn, s->n_withdrawn, 32, hash_order) : NULL;
            if (w) gone[(size_t)(w - s->withdrawn) / 32] = 1;
        }
        drop_marked(s->withdrawn, &s->n_withdrawn, 32, gone);
        free(gone);
    }
    size_t n_utxos = s->n_utxos, n_txs = s->n_txs;
    for (size_t i = 0; i < u->n_utxos; i++) TRY(ec_state_add_utxo(s, &u->utxos[i]));
    for (size_t i = 0; i < u->n_txs; i++) TRY(ec_state_add_tx_count(s, u->txs[i].txid, u->txs[i].count));
    TRY(merge_tail((void **)&s->utxos, n_utxos, &s->n_utxos, &s->cap_utxos, sizeof *s->utxos, utxo_order));
    TRY(merge_tail((void **)&s->txs, n_txs, &s->n_txs, &s->cap_txs, sizeof *s->txs, tx_order));
    s->n_headers--;
    memcpy(s->work, parent_work, 64);
    return EC_OK;
}

int ec_state_genesis(int network, ec_chain_state *s) {
    size_t n;
    ec_block g;
    ec_state_init(s, network);
    if (!valid_network(network)) return EC_INTERNAL_ERROR;
    TRY(ec_genesis_block(network, NULL, 0, &n));
    uint8_t *raw = malloc(n);
    if (!raw) return EC_INTERNAL_ERROR;
    int rc = ec_genesis_block(network, raw, n, &n);
    if (rc == EC_OK) rc = ec_block_decode(raw, n, &g);
    if (rc == EC_OK) {
        rc = connect_block(s, &g, NULL); /* no rule checks the genesis */
        ec_block_free(&g);
    }
    free(raw);
    if (rc) ec_state_free(s);
    return rc;
}

/* every rule of apply_block, before anything changes */
static int apply_checks(const ec_chain_state *s, const ec_block *b, int64_t now) {
    ec_chain_params p;
    if (s->n_headers == 0) return EC_INTERNAL_ERROR;
    /* [ST-001] the block extends the state's tip */
    if (memcmp(b->header.previous, s->headers[s->n_headers - 1].hash, 32) != 0) return EC_BLOCK_UNKNOWN_PARENT;
    chain_params(s->network, &p);
    TRY(ec_block_sanity(b, &p, now));
    return ec_block_context(b, s);
}

int ec_state_apply_block(ec_chain_state *s, const ec_block *b, int64_t now) {
    TRY(apply_checks(s, b, now));
    /* connect a copy, so that a failure (out of memory only) leaves the state as it was */
    ec_chain_state next;
    TRY(ec_state_copy(s, &next));
    int rc = connect_block(&next, b, NULL);
    if (rc) {
        ec_state_free(&next);
        return rc;
    }
    ec_state_free(s);
    *s = next;
    return EC_OK;
}

/* -- fork choice (add_block) -------------------------------------------------------------------------------- */

enum { NODE_PENDING = 0, NODE_VALID = 1, NODE_ORPHAN = 2, NODE_INVALID = 3, NODE_AWAITED = 4, DESCENDS = -2 };

static size_t slot_of(const uint8_t *hash, size_t cap) {
    uint64_t a, b;
    memcpy(&a, hash, 8);
    memcpy(&b, hash + 8, 8);
    return (size_t)((a ^ (b * 0x9E3779B97F4A7C15ull)) & (cap - 1));
}

/* the node of `hash` (an awaited one included), or -1; `steps` counts the probes when given */
static long lookup(const ec_block_tree *t, const uint8_t *hash, uint64_t *steps) {
    if (!t->index_cap) return -1;
    for (size_t i = slot_of(hash, t->index_cap);; i = (i + 1) & (t->index_cap - 1)) {
        if (steps) ++*steps;
        long k = t->index[i] - 1;
        if (k < 0) return -1;
        if (memcmp(t->nodes[k].hash, hash, 32) == 0) return k;
    }
}

static int index_insert(ec_block_tree *t, long node) {
    if (2 * (t->n_nodes + 1) > t->index_cap) { /* keep the load at most one half */
        size_t cap = t->index_cap ? 2 * t->index_cap : 64;
        long *index = calloc(cap, sizeof *index);
        if (!index) return EC_INTERNAL_ERROR;
        for (size_t i = 0; i < t->index_cap; i++) {
            long k = t->index[i] - 1;
            if (k < 0) continue;
            size_t j = slot_of(t->nodes[k].hash, cap);
            while (index[j]) j = (j + 1) & (cap - 1);
            index[j] = k + 1;
        }
        free(t->index);
        t->index = index;
        t->index_cap = cap;
    }
    size_t j = slot_of(t->nodes[node].hash, t->index_cap);
    while (t->index[j]) j = (j + 1) & (t->index_cap - 1);
    t->index[j] = node + 1;
    return EC_OK;
}

const ec_tree_node *ec_tree_find(const ec_block_tree *t, const uint8_t *hash) {
    long k = lookup(t, hash, NULL);
    return k < 0 || t->nodes[k].status == NODE_AWAITED ? NULL : &t->nodes[k];
}

static int add_node(ec_block_tree *t, const uint8_t *hash, const uint8_t *previous, int status, long *out) {
    TRY(grow((void **)&t->nodes, &t->cap_nodes, t->n_nodes, sizeof *t->nodes));
    ec_tree_node *n = &t->nodes[t->n_nodes];
    memset(n, 0, sizeof *n);
    memcpy(n->hash, hash, 32);
    memcpy(n->previous, previous, 32);
    n->status = status;
    n->parent = n->first_waiting = n->last_waiting = n->next_waiting = -1;
    TRY(index_insert(t, (long)t->n_nodes));
    *out = (long)t->n_nodes++;
    return EC_OK;
}

int ec_tree_init(ec_block_tree *t, int network) {
    static const uint8_t zero[32] = {0};
    memset(t, 0, sizeof *t);
    t->network = network;
    long g;
    int rc = ec_state_genesis(network, &t->state);
    if (rc) return rc;
    rc = add_node(t, t->state.headers[0].hash, zero, NODE_VALID, &g);
    if (rc) {
        ec_tree_free(t);
        return rc;
    }
    memcpy(t->nodes[g].work, t->state.work, 64);
    t->best = t->at = (size_t)g;
    return EC_OK;
}

void ec_tree_free(ec_block_tree *t) {
    for (size_t i = 0; i < t->n_nodes; i++) undo_free(t->nodes[i].undo);
    free(t->nodes);
    free(t->index);
    ec_state_free(&t->state);
    memset(t, 0, sizeof *t);
}

/* make the working state the chain ending at the valid node `target`: undo blocks down to the
 * fork point, then reconnect the branch (blocks already validated: connect_block alone) */
static int move_to(ec_block_tree *t, size_t target) {
    size_t a = t->at, b = target, n = 0, cap = 0;
    size_t *path = NULL;
    int rc = EC_OK;
    while (rc == EC_OK && a != b) { /* up from the higher of the two until they meet */
        t->steps++;
        if (t->nodes[a].height >= t->nodes[b].height) { /* undo a, the working state's tip */
            ec_tree_node *na = &t->nodes[a];
            rc = disconnect_block(&t->state, na->block, na->undo, t->nodes[na->parent].work);
            undo_free(na->undo);
            na->undo = NULL;
            a = (size_t)na->parent;
            t->at = a;
        } else { /* remember b, to reconnect it */
            if (n == cap) {
                size_t *p = realloc(path, (cap = cap ? 2 * cap : 16) * sizeof *path);
                if (!p) {
                    rc = EC_INTERNAL_ERROR;
                    break;
                }
                path = p;
            }
            path[n++] = b;
            b = (size_t)t->nodes[b].parent;
        }
    }
    while (rc == EC_OK && n) {
        ec_tree_node *nd = &t->nodes[path[--n]];
        block_undo *u = calloc(1, sizeof *u);
        t->steps++;
        rc = u ? connect_block(&t->state, nd->block, u) : EC_INTERNAL_ERROR;
        if (rc) {
            undo_free(u);
            break;
        }
        nd->undo = u;
        t->at = (size_t)(nd - t->nodes);
    }
    free(path);
    return rc;
}

const ec_chain_state *ec_tree_best_state(ec_block_tree *t) { return move_to(t, t->best) == EC_OK ? &t->state : NULL; }

static int work_cmp(const uint8_t *a, const uint8_t *b) { return memcmp(a, b, 64); }

/* the block of node `me` on its valid parent `pi`: move there, apply in place, record the outcome */
static int decide(ec_block_tree *t, long me, long pi, int64_t now) {
    TRY(move_to(t, (size_t)pi));
    const ec_block *b = t->nodes[me].block;
    int r = apply_checks(&t->state, b, now);
    if (r == EC_INTERNAL_ERROR) return r;
    if (r) {
        t->nodes[me].status = NODE_INVALID;
        t->nodes[me].reason = r;
        t->nodes[me].block = NULL;
        return EC_OK;
    }
    block_undo *u = calloc(1, sizeof *u);
    if (!u) return EC_INTERNAL_ERROR;
    int rc = connect_block(&t->state, b, u);
    if (rc) {
        undo_free(u);
        return rc;
    }
    ec_tree_node *n = &t->nodes[me];
    n->status = NODE_VALID;
    n->parent = pi;
    n->height = b->header.height;
    n->undo = u;
    memcpy(n->work, t->state.work, 64);
    t->at = (size_t)me;
    /* fork choice: strictly more work replaces the tip; equal work keeps it */
    if (work_cmp(n->work, t->nodes[t->best].work) > 0) t->best = (size_t)me;
    return EC_OK;
}

int ec_tree_add(ec_block_tree *t, const ec_block *block, int64_t now) {
    long self = lookup(t, block->header.hash, &t->steps);
    if (self >= 0 && t->nodes[self].status != NODE_AWAITED) return 1; /* duplicate */
    if (self < 0) TRY(add_node(t, block->header.hash, block->header.previous, NODE_PENDING, &self));
    memcpy(t->nodes[self].previous, block->header.previous, 32);
    t->nodes[self].status = NODE_PENDING;
    t->nodes[self].block = block;
    size_t cap = 16, np = 0;
    long *pending = malloc(cap * sizeof *pending);
    if (!pending) return EC_INTERNAL_ERROR;
    pending[np++] = self;
    int rc = EC_OK;
    while (np && rc == EC_OK) {
        long me = pending[--np];
        t->steps++;
        long pi = lookup(t, t->nodes[me].previous, &t->steps);
        if (pi >= 0 && t->nodes[pi].status == NODE_INVALID) {
            t->nodes[me].status = NODE_INVALID;
            t->nodes[me].reason = DESCENDS;
            t->nodes[me].block = NULL;
        } else if (pi < 0 || t->nodes[pi].status != NODE_VALID) {
            /* an orphan waits for its parent, behind the orphans that arrived before it */
            if (pi < 0) {
                static const uint8_t zero[32] = {0};
                rc = add_node(t, t->nodes[me].previous, zero, NODE_AWAITED, &pi);
                if (rc) break;
            }
            ec_tree_node *p = &t->nodes[pi];
            t->nodes[me].status = NODE_ORPHAN;
            if (p->last_waiting < 0) p->first_waiting = me;
            else t->nodes[p->last_waiting].next_waiting = me;
            p->last_waiting = me;
            continue;
        } else {
            rc = decide(t, me, pi, now);
            if (rc) break;
        }
        /* the orphans waiting for this block, in the order they arrived */
        for (long o = t->nodes[me].first_waiting; o >= 0;) {
            long next = t->nodes[o].next_waiting;
            t->steps++;
            if (np == cap) {
                long *q = realloc(pending, 2 * cap * sizeof *pending);
                if (!q) {
                    rc = EC_INTERNAL_ERROR;
                    break;
                }
                pending = q;
                cap *= 2;
            }
            t->nodes[o].status = NODE_PENDING; /* no longer an orphan: pending */
            t->nodes[o].next_waiting = -1;
            pending[np++] = o;
            o = next;
        }
        t->nodes[me].first_waiting = t->nodes[me].last_waiting = -1;
    }
    free(pending);
    return rc;
}
