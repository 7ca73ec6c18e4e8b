/* Chain state: the genesis block, the transaction and block context rules, apply_block and fork
 * choice by most cumulative work (spec/chain/params.py, spec/chain/validation.py,
 * spec/chain/state.py).
 *
 * A state is one chain from genesis to its tip: its headers, its unspent outputs, the output count
 * of every transaction it holds, the sidechain hashes already withdrawn and its cumulative work.
 * Every parameter (the networks, the genesis fields, the type codes) comes from the spec through
 * elastos_tables.h. The unspent outputs, the transactions and the withdrawn hashes are hash tables
 * (below), and a block is connected in place after every allocation it needs is made, so that
 * connecting or disconnecting a block costs in proportion to the block, not to the state. */
#include <math.h>
#include <openssl/rand.h>
#include <pthread.h>
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

void ec_chain_params_of(int network, ec_chain_params *p) {
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

/* The unspent outputs, the transactions' output counts and the withdrawn hashes are each a dense
 * array (in no particular order) with a hash index over it (ec_index: open addressing, linear
 * probing, at most half full). A lookup, an insertion and a removal cost O(1) expected probes, so
 * connecting or disconnecting a block costs in proportion to the block, whatever the state's size.
 * A removal moves the array's last item into the hole and empties its slot by backward shifting
 * (no tombstones). The key of an item is its first `klen` bytes: (txid, index) of an ec_utxo (34
 * bytes, no padding between them), the txid of an ec_tx_count, the hash itself. The hash is
 * SipHash-2-4 under a key drawn once per process (RAND_bytes), so inputs cannot be chosen to
 * collide: the order of the dense arrays is not observable (ec_state_sort_utxos sorts for output),
 * and nothing else depends on it. `ops` counts probes and items moved or rehashed. */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                                  \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                                     \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                                     \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                                  \
    } while (0)

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

uint64_t ec_siphash24(const uint8_t *key16, const void *data, size_t len) {
    const uint8_t *m = data;
    uint64_t k0 = le64(key16), k1 = le64(key16 + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    size_t full = len - len % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t w = le64(m + i);
        v3 ^= w;
        SIPROUND;
        SIPROUND;
        v0 ^= w;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t i = 0; i < len % 8; i++) last |= (uint64_t)m[full + i] << (8 * i);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint8_t hash_key[16];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

static void draw_hash_key(void) {
    /* should the generator fail, the key stays zero: still a correct index, only a guessable one */
    if (RAND_bytes(hash_key, sizeof hash_key) != 1) memset(hash_key, 0, sizeof hash_key);
}

/* one of the state's three containers, as the generic code sees it */
typedef struct {
    uint8_t **items;
    size_t *n, *cap;
    size_t size, klen;
    ec_index *ix;
    uint64_t *ops;
} table;

#define UTXOS(s) ((table){(uint8_t **)&(s)->utxos, &(s)->n_utxos, &(s)->cap_utxos, sizeof(ec_utxo), 34, &(s)->utxo_index, &(s)->ops})
#define TXS(s) ((table){(uint8_t **)&(s)->txs, &(s)->n_txs, &(s)->cap_txs, sizeof(ec_tx_count), 32, &(s)->tx_index, &(s)->ops})
#define WITHDRAWN(s) ((table){&(s)->withdrawn, &(s)->n_withdrawn, &(s)->cap_withdrawn, 32, 32, &(s)->withdrawn_index, &(s)->ops})

static size_t home(const table *t, const uint8_t *key) {
    return (size_t)ec_siphash24(hash_key, key, t->klen) & (t->ix->n_slots - 1);
}

static uint8_t *item(const table *t, size_t pos) { return *t->items + pos * t->size; }

/* the slot holding `key`, or the empty slot where it would go (*found = 0); the index is not empty */
static size_t probe(const table *t, const uint8_t *key, int *found) {
    size_t mask = t->ix->n_slots - 1;
    for (size_t i = home(t, key);; i = (i + 1) & mask) {
        ++*t->ops;
        uint32_t k = t->ix->slots[i];
        if (k == 0 || memcmp(item(t, k - 1), key, t->klen) == 0) {
            *found = k != 0;
            return i;
        }
    }
}

static uint8_t *find(const table *t, const uint8_t *key) {
    int found;
    if (!t->ix->n_slots) return NULL;
    size_t i = probe(t, key, &found);
    return found ? item(t, t->ix->slots[i] - 1) : NULL;
}

/* put every item's position into empty slots (the index cleared or new) */
static void reindex(const table *t) {
    size_t mask = t->ix->n_slots - 1;
    for (size_t p = 0; p < *t->n; p++) {
        size_t i = home(t, item(t, p));
        while (t->ix->slots[i]) i = (i + 1) & mask;
        t->ix->slots[i] = (uint32_t)(p + 1);
        ++*t->ops;
    }
}

/* room for `extra` more items, in the array and in the index, so that the next `extra` insertions
 * cannot fail: what lets a block be connected in place, every allocation made before any change */
static int reserve(const table *t, size_t extra) {
    size_t need = *t->n + extra;
    if (need >= UINT32_MAX / 2) return EC_INTERNAL_ERROR;
    if (need > *t->cap) {
        size_t c = *t->cap ? *t->cap : 16;
        while (c < need) c *= 2;
        void *q = realloc(*t->items, c * t->size);
        if (!q) return EC_INTERNAL_ERROR;
        *t->items = q;
        *t->cap = c;
    }
    if (2 * need > t->ix->n_slots) {
        size_t n = t->ix->n_slots ? t->ix->n_slots : 32;
        while (n < 2 * need) n *= 2;
        uint32_t *slots = calloc(n, sizeof *slots);
        if (!slots) return EC_INTERNAL_ERROR;
        free(t->ix->slots);
        t->ix->slots = slots;
        t->ix->n_slots = n;
        reindex(t);
    }
    return EC_OK;
}

/* insert `it`, or replace the item with its key (copied to `old` first when given: returns 1 then);
 * room reserved beforehand */
static int put(const table *t, const void *it, void *old) {
    int found;
    size_t i = probe(t, it, &found);
    if (found) {
        uint8_t *e = item(t, t->ix->slots[i] - 1);
        if (old) memcpy(old, e, t->size);
        memcpy(e, it, t->size);
        return 1;
    }
    memcpy(item(t, *t->n), it, t->size);
    t->ix->slots[i] = (uint32_t)++*t->n;
    return 0;
}

/* remove the item with `key` if there is one: the last item moves into its place */
static void drop(const table *t, const uint8_t *key) {
    int found;
    if (!t->ix->n_slots) return;
    size_t i = probe(t, key, &found), mask = t->ix->n_slots - 1;
    if (!found) return;
    size_t pos = t->ix->slots[i] - 1;
    /* backward shift: pull later items of the cluster into the hole when their home allows */
    for (size_t j = (i + 1) & mask; t->ix->slots[j]; j = (j + 1) & mask) {
        ++*t->ops;
        size_t h = home(t, item(t, t->ix->slots[j] - 1));
        /* the item at j may move to i unless its home lies cyclically in (i, j] */
        if ((j > i) ? (h <= i || h > j) : (h <= i && h > j)) {
            t->ix->slots[i] = t->ix->slots[j];
            i = j;
        }
    }
    t->ix->slots[i] = 0;
    size_t last = --*t->n;
    if (pos != last) { /* the last item fills the hole; its slot follows it */
        size_t k = probe(t, item(t, last), &found);
        memcpy(item(t, pos), item(t, last), t->size);
        t->ix->slots[k] = (uint32_t)(pos + 1);
        ++*t->ops;
    }
}

static int load(const table *t, const void *it) {
    TRY(reserve(t, 1));
    put(t, it, NULL);
    return EC_OK;
}

static int dup_table(const table *dst, const table *src) {
    *dst->items = NULL;
    *dst->cap = 0;
    dst->ix->slots = NULL;
    if (!src->ix->n_slots) return EC_OK;
    *dst->items = malloc(*src->cap * src->size);
    dst->ix->slots = malloc(src->ix->n_slots * sizeof *src->ix->slots);
    if (!*dst->items || !dst->ix->slots) return EC_INTERNAL_ERROR;
    memcpy(*dst->items, *src->items, *src->n * src->size);
    memcpy(dst->ix->slots, src->ix->slots, src->ix->n_slots * sizeof *src->ix->slots);
    *dst->cap = *src->cap;
    return EC_OK;
}

void ec_state_init(ec_chain_state *s, int network) {
    memset(s, 0, sizeof *s);
    s->network = network;
    pthread_once(&hash_key_once, draw_hash_key);
}

void ec_state_free(ec_chain_state *s) {
    free(s->headers);
    free(s->utxos);
    free(s->txs);
    free(s->withdrawn);
    free(s->utxo_index.slots);
    free(s->tx_index.slots);
    free(s->withdrawn_index.slots);
    int network = s->network;
    memset(s, 0, sizeof *s);
    s->network = network;
}

int ec_state_copy(const ec_chain_state *src, ec_chain_state *dst) {
    *dst = *src;
    dst->headers = NULL;
    dst->cap_headers = 0;
    int rc = EC_OK;
    if (src->n_headers) {
        dst->headers = malloc(src->n_headers * sizeof *src->headers);
        if (dst->headers) memcpy(dst->headers, src->headers, src->n_headers * sizeof *src->headers);
        else rc = EC_INTERNAL_ERROR;
        dst->cap_headers = src->n_headers;
    }
    /* each copy starts from NULL, so that a failure frees only what was copied here */
    dst->utxos = NULL, dst->txs = NULL, dst->withdrawn = NULL;
    dst->utxo_index.slots = dst->tx_index.slots = dst->withdrawn_index.slots = NULL;
    ec_chain_state *from = (ec_chain_state *)src; /* only read */
    if (!rc) rc = dup_table(&UTXOS(dst), &UTXOS(from));
    if (!rc) rc = dup_table(&TXS(dst), &TXS(from));
    if (!rc) rc = dup_table(&WITHDRAWN(dst), &WITHDRAWN(from));
    if (rc) ec_state_free(dst);
    return rc;
}

static int utxo_order(const void *x, const void *y) {
    const ec_utxo *a = x, *b = y;
    int c = memcmp(a->txid, b->txid, 32);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

static ec_utxo *find_utxo(const ec_chain_state *s, const uint8_t *txid, uint16_t index) {
    uint8_t key[34];
    memcpy(key, txid, 32);
    memcpy(key + 32, &index, 2);
    /* the lookups of the rules count in `ops` too, through a state they only read */
    return (ec_utxo *)find(&UTXOS((ec_chain_state *)s), key);
}

const ec_utxo *ec_state_utxo(const ec_chain_state *s, const uint8_t *txid, uint16_t index) {
    return find_utxo(s, txid, index);
}

/* the output count of a transaction of the chain, or -1 */
static long output_count(const ec_chain_state *s, const uint8_t *txid) {
    const ec_tx_count *e = (const ec_tx_count *)find(&TXS((ec_chain_state *)s), txid);
    return e ? (long)e->count : -1;
}

long ec_state_output_count(const ec_chain_state *s, const uint8_t *txid) { return output_count(s, txid); }

static int withdrawn(const ec_chain_state *s, const uint8_t *h) { return find(&WITHDRAWN((ec_chain_state *)s), h) != NULL; }

int ec_state_add_utxo(ec_chain_state *s, const ec_utxo *u) { return load(&UTXOS(s), u); }

int ec_state_add_tx_count(ec_chain_state *s, const uint8_t *txid, uint32_t count) {
    ec_tx_count c;
    memset(&c, 0, sizeof c);
    memcpy(c.txid, txid, 32);
    c.count = count;
    return load(&TXS(s), &c);
}

int ec_state_add_withdrawn(ec_chain_state *s, const uint8_t *h) { return load(&WITHDRAWN(s), h); }

void ec_state_sort_utxos(ec_chain_state *s) {
    if (s->n_utxos < 2) return;
    qsort(s->utxos, s->n_utxos, sizeof *s->utxos, utxo_order);
    memset(s->utxo_index.slots, 0, s->utxo_index.n_slots * sizeof *s->utxo_index.slots);
    reindex(&UTXOS(s));
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
 * earlier txid), and the withdrawn hashes it added. The keys it added are the block's own. Each
 * array is allocated for the most the block can need before the block is connected. */
typedef struct {
    ec_utxo *utxos;
    size_t n_utxos;
    ec_tx_count *txs;
    size_t n_txs;
    uint8_t *withdrawn;
    size_t n_withdrawn;
} block_undo;

static void undo_free(block_undo *u) {
    if (!u) return;
    free(u->utxos);
    free(u->txs);
    free(u->withdrawn);
    free(u);
}

static int is_withdraw_v0(const ec_tx *tx) { return tx->type == EC_TX_WITHDRAW_FROM_SIDECHAIN && tx->payload_version == 0; }

/* connect_block: spend the inputs, add the outputs, the transactions, the header and the work;
 * with `u` (allocated by the caller, zeroed), record what the block replaced. Every allocation is
 * made first: a failure (out of memory only) returns before anything changes, and the changes
 * themselves cannot fail. The cost is the block's: O(1) expected probes per input, output,
 * transaction and withdrawn hash. */
static int connect_block(ec_chain_state *s, const ec_block *b, block_undo *u) {
    uint8_t work[32];
    size_t ins = 0, outs = 0, wds = 0;
    for (size_t t = 0; t < b->n_txs; t++) {
        if (t) ins += b->txs[t].n_inputs;
        outs += b->txs[t].n_outputs;
        if (is_withdraw_v0(&b->txs[t])) wds += b->txs[t].n_sidechain_hashes;
    }
    TRY(ec_calc_work_bytes(b->header.bits, work));
    TRY(reserve(&UTXOS(s), outs));
    TRY(reserve(&TXS(s), b->n_txs));
    TRY(reserve(&WITHDRAWN(s), wds));
    TRY(grow((void **)&s->headers, &s->cap_headers, s->n_headers, sizeof *s->headers));
    if (u) {
        u->utxos = malloc((ins + outs + 1) * sizeof *u->utxos);
        u->txs = malloc((b->n_txs + 1) * sizeof *u->txs);
        u->withdrawn = malloc(32 * (wds + 1));
        if (!u->utxos || !u->txs || !u->withdrawn) return EC_INTERNAL_ERROR; /* the caller frees u */
    }
    /* nothing below fails */
    for (size_t t = 1; t < b->n_txs; t++)
        for (size_t i = 0; i < b->txs[t].n_inputs; i++) {
            const ec_input *in = &b->txs[t].inputs[i];
            const ec_utxo *e = find_utxo(s, in->txid, in->index);
            if (!e) continue; /* a validated block spends only unspent outputs */
            ec_utxo spent = *e; /* the key, copied: dropping moves the array's last item into e */
            if (u) u->utxos[u->n_utxos++] = spent;
            drop(&UTXOS(s), (const uint8_t *)&spent);
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
            if (put(&UTXOS(s), &e, u ? &u->utxos[u->n_utxos] : NULL) && u) u->n_utxos++;
        }
        ec_tx_count c;
        memset(&c, 0, sizeof c);
        memcpy(c.txid, tx->txid, 32);
        c.count = (uint32_t)tx->n_outputs;
        if (put(&TXS(s), &c, u ? &u->txs[u->n_txs] : NULL) && u) u->n_txs++;
        if (is_withdraw_v0(tx))
            for (size_t i = 0; i < tx->n_sidechain_hashes; i++)
                if (!put(&WITHDRAWN(s), tx->sidechain_hashes + 32 * i, NULL) && u)
                    memcpy(u->withdrawn + 32 * u->n_withdrawn++, tx->sidechain_hashes + 32 * i, 32);
    }
    ec_header_info *hi = &s->headers[s->n_headers++];
    memcpy(hi->hash, b->header.hash, 32);
    hi->height = b->header.height;
    hi->timestamp = b->header.timestamp;
    hi->bits = b->header.bits;
    work_add(s->work, work);
    return EC_OK;
}

/* undo connect_block(s, b, u): drop what the block added, put back what it spent or replaced, and
 * return to the parent's header count and work (`parent_work`); room first, as in connect_block */
static int disconnect_block(ec_chain_state *s, const ec_block *b, const block_undo *u, const uint8_t *parent_work) {
    TRY(reserve(&UTXOS(s), u->n_utxos));
    TRY(reserve(&TXS(s), u->n_txs));
    /* nothing below fails */
    for (size_t t = 0; t < b->n_txs; t++) {
        uint8_t key[34];
        memcpy(key, b->txs[t].txid, 32);
        for (size_t i = 0; i < b->txs[t].n_outputs; i++) {
            uint16_t index = (uint16_t)i;
            memcpy(key + 32, &index, 2);
            drop(&UTXOS(s), key); /* all present: no block spends its own outputs */
        }
        drop(&TXS(s), b->txs[t].txid);
    }
    for (size_t i = 0; i < u->n_withdrawn; i++) drop(&WITHDRAWN(s), u->withdrawn + 32 * i);
    for (size_t i = 0; i < u->n_utxos; i++) put(&UTXOS(s), &u->utxos[i], NULL);
    for (size_t i = 0; i < u->n_txs; i++) put(&TXS(s), &u->txs[i], NULL);
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
    ec_chain_params_of(s->network, &p);
    TRY(ec_block_sanity(b, &p, now));
    return ec_block_context(b, s);
}

int ec_state_apply_block(ec_chain_state *s, const ec_block *b, int64_t now) {
    TRY(apply_checks(s, b, now));
    /* in place: connect_block fails (out of memory only) before it changes anything */
    return connect_block(s, b, NULL);
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
    /* copied first: `hash` may point into t->nodes (an orphan's parent), which growing reallocates */
    uint8_t h[32], p[32];
    memcpy(h, hash, 32);
    memcpy(p, previous, 32);
    TRY(grow((void **)&t->nodes, &t->cap_nodes, t->n_nodes, sizeof *t->nodes));
    ec_tree_node *n = &t->nodes[t->n_nodes];
    memset(n, 0, sizeof *n);
    memcpy(n->hash, h, 32);
    memcpy(n->previous, p, 32);
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
    free(t->refused);
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

/* node `me`'s block was refused for `reason`: remembered as invalid when the hash fixes the verdict
 * (spec.chain.state.remembers_refusal), else forgotten (status awaited, so that its waiting orphans keep
 * waiting and the hash may come again) and listed in t->refused */
static int refuse(ec_block_tree *t, long me, int reason) {
    const ec_block *b = t->nodes[me].block;
    int remembered = ec_block_body_committed(b);
    if (remembered < 0) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < EC_UNCOMMITTED_REASONS_COUNT && remembered; i++)
        if (EC_UNCOMMITTED_REASONS[i] == reason) remembered = 0;
    if (!remembered) {
        TRY(grow((void **)&t->refused, &t->cap_refused, t->n_refused, sizeof *t->refused));
        t->refused[t->n_refused++] = (ec_tree_refusal){b, reason};
    }
    t->nodes[me].status = remembered ? NODE_INVALID : NODE_AWAITED;
    t->nodes[me].reason = remembered ? reason : 0;
    t->nodes[me].block = NULL;
    return EC_OK;
}

/* the block of node `me` on its valid parent `pi`: move there, apply in place, record the outcome */
static int decide(ec_block_tree *t, long me, long pi, int64_t now) {
    TRY(move_to(t, (size_t)pi));
    const ec_block *b = t->nodes[me].block;
    int r = apply_checks(&t->state, b, now);
    if (r == EC_INTERNAL_ERROR) return r;
    if (r) return refuse(t, me, r);
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
    t->n_refused = 0;
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
    ec_chain_params params;
    ec_chain_params_of(t->network, &params);
    while (np && rc == EC_OK) {
        long me = pending[--np];
        t->steps++;
        long pi = lookup(t, t->nodes[me].previous, &t->steps);
        /* the new block's sanity first, whatever its parent (an orphan below passed it when it came) */
        int r = me == self ? ec_block_sanity(block, &params, now) : EC_OK;
        if (r == EC_INTERNAL_ERROR) {
            rc = r;
            break;
        }
        if (r) {
            rc = refuse(t, me, r);
            if (rc || t->nodes[me].status == NODE_AWAITED) continue; /* refused, not remembered */
        } else if (pi >= 0 && t->nodes[pi].status == NODE_INVALID) {
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
            if (t->nodes[me].status == NODE_AWAITED) continue; /* refused, not remembered */
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
