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
void ec_sha256d64(const uint8_t *in64, uint8_t *out32);
/* `n` inputs of 64 bytes at in + 64 * i to their SHA256d at out + 32 * i; `out` may be `in` (a merkle
 * level hashed in place) */
void ec_sha256d64_many(const uint8_t *in, uint8_t *out, size_t n);
/* the code behind both: 2 AVX-512 sixteen inputs at a time in calls of 32 or more (the rest as 1 or
 * 0), 1 SHA-NI two at a time, 0 OpenSSL's compression; the highest the CPU can run is the default.
 * select returns what is in force: the highest code the CPU can run at or below the one asked for */
int ec_sha256d64_select(int code);
int ec_sha256d64_selected(void);
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

/* -- ELA chain: transactions, AuxPoW, headers, blocks ----------------------------------------- */
/* Decoded structures point into the caller's buffer (keep it alive); free with ec_tx_free /
 * ec_block_free. A decoder that fails has freed what it allocated (freeing again is harmless). */
typedef struct {
    uint8_t usage;
    const uint8_t *data;
    size_t len;
} ec_attribute;

typedef struct {
    const uint8_t *txid;
    uint16_t index;
    uint32_t sequence;
} ec_input;

typedef struct {
    const uint8_t *asset_id;
    int64_t value;
    uint32_t output_lock;
    const uint8_t *program_hash;
    uint8_t type;
    const uint8_t *payload;    /* the output payload's bytes (version >= 0x09) */
    size_t payload_len;
} ec_output;

typedef struct {
    const uint8_t *parameter;
    size_t parameter_len;
    const uint8_t *code;
    size_t code_len;
} ec_program;

typedef struct {
    const uint8_t *data;       /* the transaction's first byte */
    size_t size;               /* bytes of the whole transaction */
    size_t unsigned_len;       /* bytes of the unsigned part (what the txid hashes and programs sign) */
    uint8_t txid[32];
    uint8_t version;
    uint8_t type;
    uint8_t payload_version;
    uint32_t lock_time;
    uint8_t asset_precision;   /* RegisterAsset */
    int64_t asset_amount;      /* RegisterAsset */
    const uint8_t *sidechain_hashes; /* WithdrawFromSideChain v0: n * 32 bytes */
    size_t n_sidechain_hashes;
    ec_attribute *attributes;
    size_t n_attributes, cap_attributes;
    ec_input *inputs;
    size_t n_inputs, cap_inputs;
    ec_output *outputs;
    size_t n_outputs, cap_outputs;
    ec_program *programs;
    size_t n_programs, cap_programs;
    const uint8_t *payload;    /* the transaction payload's bytes */
    size_t payload_len;
} ec_tx;

typedef struct {
    size_t size;
    uint8_t coinbase_hash[32];
    uint64_t n_tx_in;
    const uint8_t *script;     /* the first input's signature script */
    size_t script_len;
    const uint8_t *coinbase_branch;
    size_t n_coinbase_branch;
    uint32_t coinbase_index;
    const uint8_t *aux_branch;
    size_t n_aux_branch;
    uint32_t aux_index;
    const uint8_t *parent_header; /* 80 bytes */
    uint8_t parent_header_hash[32];
} ec_auxpow;

typedef struct {
    uint32_t version;
    const uint8_t *previous;
    const uint8_t *merkle_root;
    uint32_t timestamp;
    uint32_t bits;
    uint32_t nonce;
    uint32_t height;
    ec_auxpow auxpow;
    uint8_t trailer;
    uint8_t hash[32];
    size_t size;               /* bytes of the header, AuxPoW and trailer included */
} ec_header;

typedef struct {
    ec_header header;
    ec_tx *txs;
    size_t n_txs;
    size_t size;
} ec_block;

/* the network parameters the sanity checks read (spec.chain.params.NetworkParams) */
typedef struct {
    uint8_t pow_limit[32];     /* big-endian */
    uint64_t max_tx_per_block;
    uint64_t max_block_context_size;
    uint64_t max_block_header_size;
    int64_t max_time_offset;
    uint32_t check_address_height; /* MAINNET's, on every network (the spec's quirk) */
    uint8_t ela_asset_id[32];
    uint8_t cr_assets_address[21];
    uint8_t cr_expenses_address[21];
} ec_chain_params;

int ec_check_tx_type(int code);
int ec_tx_read(ec_reader *r, ec_tx *tx);
int ec_tx_decode(const uint8_t *data, size_t len, ec_tx *tx);
void ec_tx_free(ec_tx *tx);
int ec_auxpow_read(ec_reader *r, ec_auxpow *a);
int ec_auxpow_decode(const uint8_t *data, size_t len, ec_auxpow *a);
int ec_header_read(ec_reader *r, ec_header *h);
int ec_block_decode(const uint8_t *data, size_t len, ec_block *b);
void ec_block_free(ec_block *b);
int ec_merkle_root(const uint8_t *hashes, size_t n, uint8_t *out32);
/* the same over `level`, which holds the n hashes with room for one more and is overwritten */
int ec_merkle_root_in_place(uint8_t *level, size_t n, uint8_t *out32);
/* the sibling hashes from the leaf up; `out` needs 32 * 64 bytes */
int ec_merkle_branch(const uint8_t *hashes, size_t n, uint64_t index, uint8_t *out, size_t *out_n);
void ec_merkle_branch_root(const uint8_t *leaf, const uint8_t *branch, size_t n, uint32_t index, uint8_t *out32);
int ec_expected_index(uint32_t nonce, uint32_t chain_id, uint64_t h, uint32_t *out);
int ec_auxpow_check(const ec_auxpow *a, const uint8_t *block_hash, uint32_t chain_id);
int ec_check_proof_of_work(const uint8_t *parent_hash, uint32_t bits, const uint8_t *pow_limit_be32);

/* compact bits (CompactToBig / BigToCompact), work and the retarget; decimal strings are malloc'd
 * (free with ec_free) */
typedef struct {
    uint8_t pow_limit[32];     /* big-endian */
    uint32_t pow_limit_bits;   /* 0x207fffff switches retargets off (instant) */
    uint64_t target_timespan;
    uint64_t target_time_per_block;
    uint64_t adjustment_factor;
} ec_retarget;

int ec_bits_to_target(uint32_t bits, char **target_dec, int *negative, uint32_t *canonical_bits);
int ec_bits_from_target(const char *dec, uint32_t *bits);
int ec_calc_work(uint32_t bits, char **work_dec);
int ec_next_required_bits(const ec_retarget *p, uint32_t prev_height, uint32_t prev_bits, uint32_t prev_timestamp,
                          int has_first, uint32_t first_timestamp, uint32_t *out);
int ec_tx_sanity(const ec_tx *tx, uint32_t height, const ec_chain_params *params);
int ec_block_sanity(const ec_block *b, const ec_chain_params *params, int64_t now);
/* 1 when the block's transactions are the ones its hash commits to (at least one, no txid twice, their
 * merkle root the header's: spec.chain.state.body_committed), else 0; or EC_INTERNAL_ERROR */
int ec_block_body_committed(const ec_block *b);
/* the consensus parameters of network `network` (an index of EC_NETWORKS), as the state and the adapter use them */
void ec_chain_params_of(int network, ec_chain_params *p);
/* the program rules of spec.chain.validation.check_signatures; refs: one 21-byte program hash per input */
int ec_check_signatures(const ec_tx *tx, const uint8_t *ref_program_hashes, size_t n_refs);

/* -- ELA peer-to-peer messages and the session rules (spec.chain.p2p) ------------------------- */
/* `network` indexes EC_P2P_NETWORKS (elastos_tables.h); `command` is an enum ec_p2p_command.
 * A decoded message points into the caller's buffer; ec_p2p_message_free frees its arrays. */
typedef struct {
    uint32_t magic;
    int command;               /* -1 until the command is known */
    uint8_t name[12];          /* the command field up to its first NUL */
    size_t name_len;
    uint32_t length;
    uint8_t checksum[4];
} ec_p2p_header;

typedef struct {
    int64_t timestamp;
    uint64_t services;
    uint8_t ip[16];
    uint16_t port;
} ec_net_address;

typedef struct {
    uint32_t type;
    uint8_t hash[32];
} ec_inv_vect;

typedef struct {
    int command;
    /* version */
    uint32_t version;
    uint64_t services;
    uint32_t timestamp;
    uint16_t port;
    uint64_t nonce;            /* version, ping, pong */
    uint64_t height;
    int relay;
    int has_node_version;
    const uint8_t *node_version;
    size_t node_version_len;
    /* addr */
    ec_net_address *addresses;
    size_t n_addresses;
    /* getblocks: n_locator * 32 bytes, then the stop hash */
    const uint8_t *locator;
    size_t n_locator;
    const uint8_t *hash_stop;
    /* inv, getdata, notfound */
    ec_inv_vect *inventory;
    size_t n_inventory;
    /* block, tx: the raw payload */
    const uint8_t *data;
    size_t data_len;
    /* reject (and hash) */
    const uint8_t *rejected_command;
    size_t rejected_command_len;
    uint8_t code;
    const uint8_t *reason;
    size_t reason_len;
    const uint8_t *hash;
} ec_p2p_message;

int ec_p2p_network_count(void);
int ec_p2p_command_of(const uint8_t *name, size_t len);
int ec_p2p_read_header(const uint8_t *data, size_t len, int network, ec_p2p_header *h);
int ec_p2p_decode_payload(int command, const uint8_t *payload, size_t len, ec_p2p_message *m);
int ec_p2p_decode(const uint8_t *data, size_t len, int network, ec_p2p_message *m);
void ec_p2p_message_free(ec_p2p_message *m);
/* the payload's bytes (out may be NULL to learn the size) */
int ec_p2p_serialize(const ec_p2p_message *m, uint8_t *out, size_t cap, size_t *outlen);
/* header and payload; `out` needs 24 + the payload's size */
int ec_p2p_frame(int network, int command, const uint8_t *payload, size_t len, uint8_t *out);

typedef struct {
    int inbound;
    uint32_t local_version;
    uint64_t local_services;
    const uint64_t *local_nonces;
    size_t n_local_nonces;
    int version_received;
    int verack_received;
    uint32_t protocol_version;
    uint64_t services;
    int relay;
    uint32_t height;
    int has_node_version;
    const uint8_t *node_version;
    size_t node_version_len;
    int sent_addrs;
    int replies[2];            /* the commands the session answers the last message with */
    int n_replies;
} ec_peer_session;

void ec_session_init(ec_peer_session *s, int inbound, uint32_t local_version, uint64_t local_services,
                     const uint64_t *local_nonces, size_t n_local_nonces);
int ec_session_step(ec_peer_session *s, const ec_p2p_message *m);

/* -- chain state: genesis, transaction and block context, apply_block, fork choice -------------
 * (spec.chain.params genesis_block, spec.chain.validation check_tx_context / check_block_context,
 * spec.chain.state). `network` indexes EC_NETWORKS (elastos_tables.h). A state is a value the
 * caller owns (ec_state_free); ec_state_apply_block leaves it unchanged when the block is refused. */
typedef struct {
    uint8_t txid[32];
    uint16_t index;
    int64_t value;
    uint32_t output_lock;
    uint8_t program_hash[21];
    uint32_t height;
    int coinbase;
    uint32_t tx_lock_time;
    int new_sidechain_pow;
} ec_utxo;

typedef struct {
    uint8_t hash[32];
    uint32_t height;
    uint32_t timestamp;
    uint32_t bits;
} ec_header_info;

typedef struct {
    uint8_t txid[32];
    uint32_t count;
} ec_tx_count;

typedef struct {
    const uint8_t *key;
    size_t len;
} ec_arbiter;

/* an open-addressing index (linear probing) over a state's dense array: slots[i] is an item's
 * position + 1, or 0 when empty; a power-of-two number of slots, at most half of them used */
typedef struct {
    uint32_t *slots;
    size_t n_slots;
} ec_index;

typedef struct {
    int network;
    const ec_arbiter *arbiters;  /* the cross-chain arbiters (none in the profile; a case may name them) */
    size_t n_arbiters;
    ec_header_info *headers;     /* headers[h] is at height h */
    size_t n_headers, cap_headers;
    ec_utxo *utxos;              /* unspent outputs, one per (txid, index), in no particular order */
    size_t n_utxos, cap_utxos;
    ec_tx_count *txs;            /* output count of every transaction of the chain, one per txid */
    size_t n_txs, cap_txs;
    uint8_t *withdrawn;          /* 32 bytes each: sidechain hashes already withdrawn */
    size_t n_withdrawn, cap_withdrawn;
    ec_index utxo_index, tx_index, withdrawn_index; /* the three arrays' hash indexes */
    uint8_t work[64];            /* cumulative work, big-endian */
    uint64_t ops;                /* the containers' work: index probes and entries moved or rehashed */
} ec_chain_state;

int ec_network_count(void);
int64_t ec_block_reward(int network, uint32_t height);
int ec_calc_work_bytes(uint32_t bits, uint8_t *out32);
int ec_work_decimal(const uint8_t *be, size_t len, char **dec);
/* the genesis block's bytes; `out` may be NULL to learn the size */
int ec_genesis_block(int network, uint8_t *out, size_t cap, size_t *outlen);
void ec_state_init(ec_chain_state *s, int network);
int ec_state_genesis(int network, ec_chain_state *s);
int ec_state_copy(const ec_chain_state *src, ec_chain_state *dst);
void ec_state_free(ec_chain_state *s);
/* loading: an entry whose key is already there replaces it, as a dict's update */
int ec_state_add_utxo(ec_chain_state *s, const ec_utxo *u);
int ec_state_add_tx_count(ec_chain_state *s, const uint8_t *txid, uint32_t count);
int ec_state_add_withdrawn(ec_chain_state *s, const uint8_t *hash32);
long ec_state_output_count(const ec_chain_state *s, const uint8_t *txid);
const ec_utxo *ec_state_utxo(const ec_chain_state *s, const uint8_t *txid, uint16_t index);
int ec_tx_context(const ec_tx *tx, uint32_t height, const ec_chain_state *view, int64_t *fee);
int ec_block_context(const ec_block *b, const ec_chain_state *view);
int ec_state_apply_block(ec_chain_state *s, const ec_block *b, int64_t now);
/* sort the UTXOs by (txid, index), the order ela.block.apply reports them in (in place; the index
 * is rebuilt): the only order of the state that is observable */
void ec_state_sort_utxos(ec_chain_state *s);
/* SipHash-2-4 of `data` under a 16-byte key: the state's index hash (its key drawn per process) */
uint64_t ec_siphash24(const uint8_t *key16, const void *data, size_t len);

/* fork choice: every block seen, each valid one's cumulative work, the best tip, and one working
 * state (the chain ending at node `at`) that moves between branches by undoing and reconnecting
 * blocks. Adding a block costs the tree O(1) expected steps besides applying it (a hash index of
 * the nodes, and the orphans waiting for each hash kept as a list): `steps` counts them. The tree
 * keeps pointers to the blocks it was given (orphans, and valid blocks to reconnect them): the
 * caller keeps them alive while the tree lives. */
typedef struct {
    uint8_t hash[32];
    int status;                  /* 1 valid, 2 orphan, 3 invalid, 4 awaited (a parent some orphan names, or a
                                    block refused without being remembered) */
    int reason;                  /* invalid: its Reason, or -2 when it descends from an invalid block */
    const ec_block *block;       /* orphan: the block; valid: the block, to reconnect it */
    uint8_t previous[32];
    long parent;                 /* valid: the parent's node (-1 for the genesis) */
    uint32_t height;             /* valid: its height */
    uint8_t work[64];            /* valid: the cumulative work of its chain, big-endian */
    long first_waiting, last_waiting; /* the orphans waiting for this hash, in arrival order (-1: none) */
    long next_waiting;           /* orphan: the next orphan waiting for the same parent (-1: none) */
    void *undo;                  /* valid and in the working state: what connecting it changed */
} ec_tree_node;

/* a block refused for a reason its hash does not fix (spec.chain.state.remembers_refusal): not remembered */
typedef struct {
    const ec_block *block;
    int reason;
} ec_tree_refusal;

typedef struct {
    int network;
    ec_tree_node *nodes;
    size_t n_nodes, cap_nodes;
    size_t best;
    ec_chain_state state;        /* the working state: the chain ending at node `at` */
    size_t at;
    long *index;                 /* open addressing over the nodes' hashes: node + 1, or 0 (empty) */
    size_t index_cap;
    uint64_t steps;              /* index probes, orphan links followed, blocks queued, blocks undone and reconnected */
    ec_tree_refusal *refused;    /* the refusals of the last ec_tree_add that left the hash unknown, in order */
    size_t n_refused, cap_refused;
} ec_block_tree;

int ec_tree_init(ec_block_tree *t, int network);
/* 1 when the block was already known (a duplicate), else 0; or a negative EC_INTERNAL_ERROR. The blocks
 * it refused without remembering them (the block, or orphans it let through) are in t->refused. */
int ec_tree_add(ec_block_tree *t, const ec_block *b, int64_t now);
/* a block the tree has seen (never an awaited parent), or NULL */
const ec_tree_node *ec_tree_find(const ec_block_tree *t, const uint8_t *hash32);
/* the state of the best tip (the working state, moved there); NULL when out of memory */
const ec_chain_state *ec_tree_best_state(ec_block_tree *t);
void ec_tree_free(ec_block_tree *t);

/* CFFI-END */

#ifdef __cplusplus
}
#endif

#endif /* ELASTOS_CORE_H */
