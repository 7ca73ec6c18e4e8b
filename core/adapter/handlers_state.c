/* The chain suite's genesis, context and state handlers (conformance/bindings_chain/chain.py):
 * ela.genesis, ela.tx.context, ela.block.apply and ela.fork_choice. Inputs are checked in the
 * order the bindings read them. */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "elastos_tables.h"

#define U32_MAX 0xFFFFFFFFLL

static int state_network(const jv *in, int *out) {
    const jv *v = json_get(in, "network");
    if (!v || v->type != J_STR) return EC_MALFORMED_INPUT;
    for (int i = 0; i < EC_NETWORKS_COUNT; i++)
        if (strlen(EC_NETWORKS[i].name) == v->n && memcmp(EC_NETWORKS[i].name, v->s, v->n) == 0) {
            *out = i;
            return EC_OK;
        }
    /* [NET-001] the network is one the spec defines */
    return EC_UNKNOWN_NETWORK;
}

static int u32_field(const jv *in, const char *key, uint32_t *out) {
    long long v;
    TRY(in_small_int(in, key, 0, U32_MAX, &v));
    *out = (uint32_t)v;
    return EC_OK;
}

/* a hex field of exactly n bytes (the bindings' _fixed) */
static int fixed(arena *a, const jv *in, const char *key, size_t n, uint8_t **out) {
    size_t len;
    TRY(in_hex(a, in, key, out, &len));
    if (len != n) return EC_MALFORMED_INPUT;
    return EC_OK;
}


static void out_state(ec_buf *out, const ec_chain_state *s) {
    char *work = NULL;
    out_hex_field(out, 1, "tip", s->headers[s->n_headers - 1].hash, 32);
    out_int_field(out, 0, "height", s->headers[s->n_headers - 1].height);
    if (ec_work_decimal(s->work, sizeof s->work, &work) == EC_OK) {
        out_str_field(out, 0, "work", work);
        ec_free(work);
    } else {
        out->oom = 1;
    }
}

/* -- ela.genesis ---------------------------------------------------------------------------------- */

int h_genesis(arena *a, const jv *in, ec_buf *out) {
    int network;
    size_t n;
    ec_block g;
    SHAPE(in, "network");
    TRY(state_network(in, &network));
    TRY(ec_genesis_block(network, NULL, 0, &n));
    uint8_t *raw = arena_alloc(a, n);
    if (!raw) return EC_INTERNAL_ERROR;
    TRY(ec_genesis_block(network, raw, n, &n));
    TRY(ec_block_decode(raw, n, &g));
    out_hex_field(out, 1, "hash", g.header.hash, 32);
    out_hex_field(out, 0, "block", raw, n);
    ec_block_free(&g);
    return EC_OK;
}

/* -- ela.tx.context --------------------------------------------------------------------------------- */

static int utxo_entry(arena *a, const jv *item, ec_utxo *u) {
    static const char *const req[] = {"txid", "index", "value", "program_hash", NULL},
                             *const opt[] = {"output_lock", "height", "coinbase", "tx_lock_time", "new_sidechain_pow", NULL};
    uint8_t *x;
    long long index;
    bigint value;
    memset(u, 0, sizeof *u);
    TRY(in_shape(item, req, opt));
    const jv *cb = json_get(item, "coinbase"), *np = json_get(item, "new_sidechain_pow");
    if (cb && cb->type != J_BOOL) return EC_MALFORMED_INPUT;
    if (np && np->type != J_BOOL) return EC_MALFORMED_INPUT;
    u->coinbase = cb ? cb->boolean : 0;
    u->new_sidechain_pow = np ? np->boolean : 0;
    TRY(in_big_int(item, "value", &value));
    /* an output value is an i64 */
    if (value.huge || (value.neg ? value.mag > (unsigned __int128)INT64_MAX + 1 : value.mag > INT64_MAX))
        return EC_MALFORMED_INPUT;
    u->value = value.neg ? (int64_t)(0 - (uint64_t)value.mag) : (int64_t)value.mag;
    if (json_get(item, "output_lock")) TRY(u32_field(item, "output_lock", &u->output_lock));
    TRY(fixed(a, item, "program_hash", 21, &x));
    memcpy(u->program_hash, x, 21);
    if (json_get(item, "height")) TRY(u32_field(item, "height", &u->height));
    if (json_get(item, "tx_lock_time")) TRY(u32_field(item, "tx_lock_time", &u->tx_lock_time));
    TRY(fixed(a, item, "txid", 32, &x));
    memcpy(u->txid, x, 32);
    TRY(in_small_int(item, "index", 0, 0xFFFF, &index));
    u->index = (uint16_t)index;
    return EC_OK;
}

static int build_view(arena *a, const jv *in, ec_chain_state *v) {
    const jv *utxos = json_get(in, "utxos"), *txs = json_get(in, "chain_txs");
    if (utxos->type != J_ARR || txs->type != J_OBJ) return EC_MALFORMED_INPUT;
    for (size_t i = 0; i < utxos->n; i++) {
        ec_utxo u;
        TRY(utxo_entry(a, &utxos->items[i], &u));
        TRY(ec_state_add_utxo(v, &u)); /* a later entry for the same output replaces it (a dict) */
    }
    for (size_t i = 0; i < txs->n; i++) {
        uint8_t *txid;
        size_t n;
        const jv *c = &txs->items[i];
        if (!txs->keys[i]) continue;
        TRY(hex_decode(a, txs->keys[i], txs->key_lens[i], &txid, &n));
        if (n != 32) return EC_MALFORMED_INPUT;
        if (c->type != J_NUM || !c->is_int || c->n > 18) return EC_MALFORMED_INPUT;
        long long count = strtoll(c->s, NULL, 10);
        if (count < 0 || count > 0xFFFF + 1) return EC_MALFORMED_INPUT;
        TRY(ec_state_add_tx_count(v, txid, (uint32_t)count));
    }
    for (size_t i = 0; i < v->n_utxos; i++)
        /* every utxo's transaction is in chain_txs */
        if (ec_state_output_count(v, v->utxos[i].txid) < 0) return EC_MALFORMED_INPUT;
    return EC_OK;
}

int h_tx_context(arena *a, const jv *in, ec_buf *out) {
    static const char *const req[] = {"tx", "height", "network", "utxos", "chain_txs", NULL},
                             *const opt[] = {"arbiters", "withdrawn", NULL};
    int network, rc;
    uint8_t *raw, **items;
    size_t n, *lens, count;
    uint32_t height;
    ec_chain_state v;
    ec_tx tx;
    int64_t fee;
    TRY(in_shape(in, req, opt));
    ec_state_init(&v, 0);
    rc = build_view(a, in, &v);
    if (rc == EC_OK) rc = state_network(in, &network);
    if (rc == EC_OK) v.network = network;
    if (rc == EC_OK && json_get(in, "arbiters")) {
        rc = in_hex_list(a, in, "arbiters", &items, &lens, &count);
        ec_arbiter *arbs = rc == EC_OK ? arena_alloc(a, (count + 1) * sizeof *arbs) : NULL;
        if (rc == EC_OK && !arbs) rc = EC_INTERNAL_ERROR;
        for (size_t i = 0; rc == EC_OK && i < count; i++) arbs[i] = (ec_arbiter){items[i], lens[i]};
        v.arbiters = arbs;
        v.n_arbiters = count;
    }
    const jv *w = json_get(in, "withdrawn");
    if (rc == EC_OK && w && w->type == J_ARR) {
        for (size_t i = 0; rc == EC_OK && i < w->n; i++) {
            uint8_t *h;
            size_t hn;
            if (w->items[i].type != J_STR) rc = EC_MALFORMED_INPUT;
            if (rc == EC_OK) rc = hex_decode(a, w->items[i].s, w->items[i].n, &h, &hn);
            if (rc == EC_OK && hn != 32) rc = EC_MALFORMED_INPUT;
            if (rc == EC_OK) rc = ec_state_add_withdrawn(&v, h);
        }
    }
    if (rc == EC_OK) rc = in_hex(a, in, "tx", &raw, &n);
    if (rc == EC_OK) rc = ec_tx_decode(raw, n, &tx);
    if (rc) {
        ec_state_free(&v);
        return rc;
    }
    rc = u32_field(in, "height", &height);
    if (rc == EC_OK) rc = ec_tx_context(&tx, height, &v, &fee);
    if (rc == EC_OK) out_dec_field(out, 1, "fee", fee < 0, fee < 0 ? (unsigned __int128)(0 - (uint64_t)fee) : (unsigned __int128)fee);
    ec_tx_free(&tx);
    ec_state_free(&v);
    return rc;
}

/* -- ela.block.apply ---------------------------------------------------------------------------------- */

int h_block_apply(arena *a, const jv *in, ec_buf *out) {
    int network, rc;
    uint32_t now;
    uint8_t **items, *raw;
    size_t *lens, count, n;
    ec_chain_state s;
    ec_block b;
    SHAPE(in, "network", "pre", "block", "now");
    TRY(state_network(in, &network));
    TRY(u32_field(in, "now", &now));
    TRY(ec_state_genesis(network, &s));
    rc = in_hex_list(a, in, "pre", &items, &lens, &count);
    for (size_t i = 0; rc == EC_OK && i < count; i++) {
        /* a pre block that does not decode or apply makes the input malformed */
        if (ec_block_decode(items[i], lens[i], &b) != EC_OK) {
            rc = EC_MALFORMED_INPUT;
            break;
        }
        int r = ec_state_apply_block(&s, &b, now);
        ec_block_free(&b);
        if (r) rc = r == EC_INTERNAL_ERROR ? r : EC_MALFORMED_INPUT;
    }
    if (rc == EC_OK) rc = in_hex(a, in, "block", &raw, &n);
    if (rc == EC_OK) rc = ec_block_decode(raw, n, &b);
    if (rc == EC_OK) {
        rc = ec_state_apply_block(&s, &b, now);
        ec_block_free(&b);
    }
    if (rc == EC_OK) {
        out_state(out, &s);
        ec_state_sort_utxos(&s);
        out_key(out, 0, "utxos");
        ec_buf_putc(out, '[');
        for (size_t i = 0; i < s.n_utxos; i++) {
            const ec_utxo *u = &s.utxos[i];
            if (i) ec_buf_putc(out, ',');
            ec_buf_putc(out, '{');
            out_hex_field(out, 1, "txid", u->txid, 32);
            out_int_field(out, 0, "index", u->index);
            out_dec_field(out, 0, "value", u->value < 0,
                          u->value < 0 ? (unsigned __int128)(0 - (uint64_t)u->value) : (unsigned __int128)u->value);
            out_hex_field(out, 0, "program_hash", u->program_hash, 21);
            ec_buf_putc(out, '}');
        }
        ec_buf_putc(out, ']');
    }
    ec_state_free(&s);
    return rc;
}

/* -- ela.fork_choice ------------------------------------------------------------------------------------ */

int h_fork_choice(arena *a, const jv *in, ec_buf *out) {
    int network, rc = EC_OK;
    uint32_t now;
    uint8_t **items;
    size_t *lens, count, decoded = 0;
    SHAPE(in, "network", "blocks", "now");
    TRY(state_network(in, &network));
    TRY(u32_field(in, "now", &now));
    TRY(in_hex_list(a, in, "blocks", &items, &lens, &count));
    ec_block *blocks = calloc(count + 1, sizeof *blocks);
    if (!blocks) return EC_INTERNAL_ERROR;
    for (; rc == EC_OK && decoded < count; decoded++) {
        rc = ec_block_decode(items[decoded], lens[decoded], &blocks[decoded]);
        if (rc) break;
    }
    ec_block_tree t;
    int tree = 0;
    if (rc == EC_OK) {
        rc = ec_tree_init(&t, network);
        tree = rc == EC_OK;
    }
    /* dup[i]: block i repeats an earlier block of the request (the genesis is known before any);
     * refused[i]: the reason block i was refused without being remembered, else 0 */
    uint8_t *dup = calloc(count + 1, 1);
    int *refused = calloc(count + 1, sizeof *refused);
    if (!dup || !refused) rc = EC_INTERNAL_ERROR;
    for (size_t i = 0; rc == EC_OK && i < count; i++) {
        int r = ec_tree_add(&t, &blocks[i], now);
        if (r < 0) rc = r;
        dup[i] = r == 1 && memcmp(blocks[i].header.hash, t.nodes[0].hash, 32) != 0;
        for (size_t k = 0; rc == EC_OK && k < t.n_refused; k++) refused[t.refused[k].block - blocks] = t.refused[k].reason;
    }
    const ec_chain_state *best = rc == EC_OK ? ec_tree_best_state(&t) : NULL;
    if (rc == EC_OK && !best) rc = EC_INTERNAL_ERROR;
    if (rc == EC_OK) {
        out_state(out, best);
        out_key(out, 0, "statuses");
        ec_buf_putc(out, '[');
        for (size_t i = 0; i < count; i++) {
            const ec_tree_node *nd = dup[i] || refused[i] ? NULL : ec_tree_find(&t, blocks[i].header.hash);
            const char *st = dup[i]                             ? "duplicate"
                             : refused[i]                       ? "refused"
                             : (size_t)(nd - t.nodes) == t.best ? "tip"
                             : nd->status == 1                  ? "valid"
                             : nd->status == 2                  ? "orphan"
                                                                : "invalid";
            if (i) ec_buf_putc(out, ',');
            ec_buf_json_string(out, st, strlen(st));
        }
        ec_buf_putc(out, ']');
        out_key(out, 0, "reasons");
        ec_buf_putc(out, '[');
        for (size_t i = 0; i < count; i++) {
            const ec_tree_node *nd = dup[i] || refused[i] ? NULL : ec_tree_find(&t, blocks[i].header.hash);
            if (i) ec_buf_putc(out, ',');
            if (refused[i]) {
                const char *r = ec_reason_name(refused[i]);
                ec_buf_json_string(out, r, strlen(r));
            } else if (!nd || nd->status != 3 || (size_t)(nd - t.nodes) == t.best) {
                ec_buf_puts(out, "null");
            } else {
                const char *r = nd->reason == -2 ? "descends_from_invalid" : ec_reason_name(nd->reason);
                ec_buf_json_string(out, r, strlen(r));
            }
        }
        ec_buf_putc(out, ']');
    }
    if (tree) ec_tree_free(&t);
    free(dup);
    free(refused);
    for (size_t i = 0; i < decoded && i < count; i++) ec_block_free(&blocks[i]);
    free(blocks);
    return rc;
}
