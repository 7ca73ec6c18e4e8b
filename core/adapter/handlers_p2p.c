/* The chain suite's peer-to-peer handlers (conformance/bindings_chain/p2p.py): ela.p2p.decode,
 * ela.p2p.encode, ela.p2p.read_header and ela.p2p.handshake. A payload is a JSON object of its
 * fields; inputs are checked in the order the bindings read them. */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "elastos_tables.h"

/* `network` by name: an index of EC_P2P_NETWORKS */
static int p2p_network(const jv *in, int *out) {
    const jv *v = json_get(in, "network");
    if (!v || v->type != J_STR) return EC_MALFORMED_INPUT;
    for (int i = 0; i < EC_P2P_NETWORKS_COUNT; i++)
        if (strlen(EC_P2P_NETWORKS[i].name) == v->n && memcmp(EC_P2P_NETWORKS[i].name, v->s, v->n) == 0) {
            *out = i;
            return EC_OK;
        }
    /* [NET-001] the network is one the spec defines */
    return EC_UNKNOWN_NETWORK;
}

/* a JSON-number integer field of wire type [lo, hi]: [ENC-005] outside it is VALUE_OUT_OF_RANGE */
static int num(const jv *in, const char *key, unsigned __int128 hi, uint64_t *out) {
    const jv *v = json_get(in, key);
    bigint b;
    if (!v || v->type != J_NUM || !v->is_int) return EC_MALFORMED_INPUT;
    TRY(parse_decimal(v->s, v->n, &b));
    /* [ENC-005] an integer is written only as a type whose range contains it */
    if (b.neg || b.huge || b.mag > hi) return EC_VALUE_OUT_OF_RANGE;
    *out = (uint64_t)b.mag;
    return EC_OK;
}

/* a decimal-string field: unsigned of wire type [0, hi], or i64 when `signed64` */
static int dec(const jv *in, const char *key, int signed64, uint64_t *out) {
    bigint b;
    TRY(in_big_int(in, key, &b));
    unsigned __int128 hi = signed64 ? (unsigned __int128)INT64_MAX : (unsigned __int128)UINT64_MAX;
    unsigned __int128 lo_mag = signed64 ? (unsigned __int128)INT64_MAX + 1 : 0;
    /* [ENC-005] an integer is written only as a type whose range contains it */
    if (b.huge || (b.neg ? b.mag > lo_mag : b.mag > hi)) return EC_VALUE_OUT_OF_RANGE;
    *out = b.neg ? (uint64_t)(0 - (uint64_t)b.mag) : (uint64_t)b.mag;
    return EC_OK;
}

static int boolean(const jv *in, const char *key, int *out) {
    const jv *v = json_get(in, key);
    if (!v || v->type != J_BOOL) return EC_MALFORMED_INPUT;
    *out = v->boolean;
    return EC_OK;
}

/* [ENC-006] a hash is exactly 32 bytes (Uint256.from_bytes) */
static int hash32(arena *a, const jv *in, const char *key, const uint8_t **out) {
    uint8_t *h;
    size_t n;
    TRY(in_hex(a, in, key, &h, &n));
    if (n != 32) return EC_WRONG_LENGTH;
    *out = h;
    return EC_OK;
}

static int list(const jv *in, const char *key, const jv **out) {
    const jv *v = json_get(in, key);
    if (!v || v->type != J_ARR) return EC_MALFORMED_INPUT;
    *out = v;
    return EC_OK;
}

#define FIELDS(in, ...)                                                                            \
    do {                                                                                           \
        static const char *const req_[] = {__VA_ARGS__, NULL};                                     \
        TRY(in_shape(in, req_, NULL));                                                             \
    } while (0)

static int empty_payload(const jv *data) {
    static const char *const none[] = {NULL};
    return in_shape(data, none, NULL);
}

/* payload_from_json: the message of `command` from its JSON fields; arrays live in the arena */
static int payload_from_json(arena *a, const char *command, size_t clen, const jv *data, ec_p2p_message *m) {
    uint64_t v;
    memset(m, 0, sizeof *m);
    m->command = ec_p2p_command_of((const uint8_t *)command, clen);
    /* [P2P-003] a command of this profile */
    if (m->command < 0) return EC_UNKNOWN_COMMAND;
    switch (m->command) {
    case EC_CMD_VERSION: {
        FIELDS(data, "version", "services", "timestamp", "port", "nonce", "height", "relay", "node_version");
        TRY(num(data, "version", UINT32_MAX, &v));
        m->version = (uint32_t)v;
        TRY(dec(data, "services", 0, &m->services));
        TRY(num(data, "timestamp", UINT32_MAX, &v));
        m->timestamp = (uint32_t)v;
        TRY(num(data, "port", UINT16_MAX, &v));
        m->port = (uint16_t)v;
        TRY(dec(data, "nonce", 0, &m->nonce));
        TRY(dec(data, "height", 0, &m->height));
        TRY(boolean(data, "relay", &m->relay));
        if (json_get(data, "node_version")->type != J_NULL) {
            uint8_t *nv;
            TRY(in_hex(a, data, "node_version", &nv, &m->node_version_len));
            m->node_version = nv;
            m->has_node_version = 1;
        }
        return EC_OK;
    }
    case EC_CMD_VERACK:
    case EC_CMD_GETADDR:
    case EC_CMD_MEMPOOL:
        return empty_payload(data);
    case EC_CMD_ADDR: {
        const jv *items;
        FIELDS(data, "addresses");
        TRY(list(data, "addresses", &items));
        m->addresses = arena_alloc(a, (items->n + 1) * sizeof *m->addresses);
        if (!m->addresses) return EC_INTERNAL_ERROR;
        for (size_t i = 0; i < items->n; i++) {
            const jv *it = &items->items[i];
            ec_net_address *ad = &m->addresses[i];
            uint8_t *ip;
            size_t n;
            FIELDS(it, "timestamp", "services", "ip", "port");
            TRY(in_hex(a, it, "ip", &ip, &n));
            if (n != EC_P2P_IP_SIZE) return EC_MALFORMED_INPUT; /* ip: 16 bytes */
            memcpy(ad->ip, ip, EC_P2P_IP_SIZE);
            TRY(dec(it, "timestamp", 1, &v));
            ad->timestamp = (int64_t)v;
            TRY(dec(it, "services", 0, &ad->services));
            TRY(num(it, "port", UINT16_MAX, &v));
            ad->port = (uint16_t)v;
        }
        m->n_addresses = items->n;
        return EC_OK;
    }
    case EC_CMD_PING:
    case EC_CMD_PONG:
        FIELDS(data, "nonce");
        return dec(data, "nonce", 0, &m->nonce);
    case EC_CMD_GETBLOCKS: {
        const jv *items;
        FIELDS(data, "locator", "hash_stop");
        TRY(list(data, "locator", &items));
        uint8_t *loc = arena_alloc(a, 32 * items->n + 1);
        if (!loc) return EC_INTERNAL_ERROR;
        uint8_t **raw = arena_alloc(a, (items->n + 1) * sizeof *raw);
        size_t *lens = arena_alloc(a, (items->n + 1) * sizeof *lens);
        if (!raw || !lens) return EC_INTERNAL_ERROR;
        /* every item is read as hex first (Input.hex_list), then each is sized */
        for (size_t i = 0; i < items->n; i++) {
            if (items->items[i].type != J_STR) return EC_MALFORMED_INPUT;
            TRY(hex_decode(a, items->items[i].s, items->items[i].n, &raw[i], &lens[i]));
        }
        for (size_t i = 0; i < items->n; i++) {
            /* [ENC-006] a hash is exactly 32 bytes */
            if (lens[i] != 32) return EC_WRONG_LENGTH;
            memcpy(loc + 32 * i, raw[i], 32);
        }
        m->locator = loc;
        m->n_locator = items->n;
        return hash32(a, data, "hash_stop", &m->hash_stop);
    }
    case EC_CMD_INV:
    case EC_CMD_GETDATA:
    case EC_CMD_NOTFOUND: {
        const jv *items;
        FIELDS(data, "inventory");
        TRY(list(data, "inventory", &items));
        m->inventory = arena_alloc(a, (items->n + 1) * sizeof *m->inventory);
        if (!m->inventory) return EC_INTERNAL_ERROR;
        for (size_t i = 0; i < items->n; i++) {
            const jv *it = &items->items[i];
            const uint8_t *h;
            FIELDS(it, "type", "hash");
            TRY(num(it, "type", UINT32_MAX, &v));
            m->inventory[i].type = (uint32_t)v;
            TRY(hash32(a, it, "hash", &h));
            memcpy(m->inventory[i].hash, h, 32);
        }
        m->n_inventory = items->n;
        return EC_OK;
    }
    case EC_CMD_BLOCK:
    case EC_CMD_TX: {
        uint8_t *d;
        FIELDS(data, "data");
        TRY(in_hex(a, data, "data", &d, &m->data_len));
        m->data = d;
        return EC_OK;
    }
    default: { /* reject */
        uint8_t *rc, *rs;
        FIELDS(data, "rejected_command", "code", "reason", "hash");
        TRY(in_hex(a, data, "rejected_command", &rc, &m->rejected_command_len));
        m->rejected_command = rc;
        TRY(num(data, "code", UINT8_MAX, &v));
        m->code = (uint8_t)v;
        TRY(in_hex(a, data, "reason", &rs, &m->reason_len));
        m->reason = rs;
        return hash32(a, data, "hash", &m->hash);
    }
    }
}

static void out_dec_u64(ec_buf *out, int first, const char *key, uint64_t v) {
    out_dec_field(out, first, key, 0, (unsigned __int128)v);
}

static void out_node_version(ec_buf *out, int has, const uint8_t *d, size_t n) {
    if (has) {
        out_hex_field(out, 0, "node_version", d, n);
    } else {
        out_key(out, 0, "node_version");
        ec_buf_puts(out, "null");
    }
}

/* payload_to_json */
static void payload_to_json(const ec_p2p_message *m, ec_buf *out) {
    ec_buf_putc(out, '{');
    switch (m->command) {
    case EC_CMD_VERSION:
        out_int_field(out, 1, "version", m->version);
        out_dec_u64(out, 0, "services", m->services);
        out_int_field(out, 0, "timestamp", m->timestamp);
        out_int_field(out, 0, "port", m->port);
        out_dec_u64(out, 0, "nonce", m->nonce);
        out_dec_u64(out, 0, "height", m->height);
        out_key(out, 0, "relay");
        ec_buf_puts(out, m->relay ? "true" : "false");
        out_node_version(out, m->has_node_version, m->node_version, m->node_version_len);
        break;
    case EC_CMD_ADDR:
        out_key(out, 1, "addresses");
        ec_buf_putc(out, '[');
        for (size_t i = 0; i < m->n_addresses; i++) {
            const ec_net_address *ad = &m->addresses[i];
            if (i) ec_buf_putc(out, ',');
            ec_buf_putc(out, '{');
            out_dec_field(out, 1, "timestamp", ad->timestamp < 0,
                          ad->timestamp < 0 ? (unsigned __int128)(0 - (uint64_t)ad->timestamp)
                                            : (unsigned __int128)ad->timestamp);
            out_dec_u64(out, 0, "services", ad->services);
            out_hex_field(out, 0, "ip", ad->ip, EC_P2P_IP_SIZE);
            out_int_field(out, 0, "port", ad->port);
            ec_buf_putc(out, '}');
        }
        ec_buf_putc(out, ']');
        break;
    case EC_CMD_PING:
    case EC_CMD_PONG:
        out_dec_u64(out, 1, "nonce", m->nonce);
        break;
    case EC_CMD_GETBLOCKS:
        out_key(out, 1, "locator");
        ec_buf_putc(out, '[');
        for (size_t i = 0; i < m->n_locator; i++) {
            if (i) ec_buf_putc(out, ',');
            ec_buf_putc(out, '"');
            ec_buf_hex(out, m->locator + 32 * i, 32);
            ec_buf_putc(out, '"');
        }
        ec_buf_putc(out, ']');
        out_hex_field(out, 0, "hash_stop", m->hash_stop, 32);
        break;
    case EC_CMD_INV:
    case EC_CMD_GETDATA:
    case EC_CMD_NOTFOUND:
        out_key(out, 1, "inventory");
        ec_buf_putc(out, '[');
        for (size_t i = 0; i < m->n_inventory; i++) {
            if (i) ec_buf_putc(out, ',');
            ec_buf_putc(out, '{');
            out_int_field(out, 1, "type", m->inventory[i].type);
            out_hex_field(out, 0, "hash", m->inventory[i].hash, 32);
            ec_buf_putc(out, '}');
        }
        ec_buf_putc(out, ']');
        break;
    case EC_CMD_BLOCK:
    case EC_CMD_TX:
        out_hex_field(out, 1, "data", m->data, m->data_len);
        break;
    case EC_CMD_REJECT:
        out_hex_field(out, 1, "rejected_command", m->rejected_command, m->rejected_command_len);
        out_int_field(out, 0, "code", m->code);
        out_hex_field(out, 0, "reason", m->reason, m->reason_len);
        out_hex_field(out, 0, "hash", m->hash, 32);
        break;
    default: /* verack, getaddr, mempool */
        break;
    }
    ec_buf_putc(out, '}');
}

int h_p2p_decode(arena *a, const jv *in, ec_buf *out) {
    uint8_t *raw;
    size_t n;
    int network;
    ec_p2p_message m;
    SHAPE(in, "network", "message");
    TRY(in_hex(a, in, "message", &raw, &n));
    TRY(p2p_network(in, &network));
    TRY(ec_p2p_decode(raw, n, network, &m));
    out_str_field(out, 1, "command", EC_P2P_COMMANDS[m.command]);
    out_key(out, 0, "payload");
    payload_to_json(&m, out);
    ec_p2p_message_free(&m);
    return EC_OK;
}

int h_p2p_encode(arena *a, const jv *in, ec_buf *out) {
    int network;
    const char *cmd;
    size_t clen, n;
    ec_p2p_message m;
    SHAPE(in, "network", "command", "payload");
    TRY(p2p_network(in, &network));
    TRY(in_text(in, "command", &cmd, &clen));
    TRY(payload_from_json(a, cmd, clen, json_get(in, "payload"), &m));
    TRY(ec_p2p_serialize(&m, NULL, 0, &n));
    uint8_t *msg = arena_alloc(a, EC_P2P_HEADER_SIZE + n + 1);
    if (!msg) return EC_INTERNAL_ERROR;
    TRY(ec_p2p_serialize(&m, msg + EC_P2P_HEADER_SIZE, n, &n));
    TRY(ec_p2p_frame(network, m.command, msg + EC_P2P_HEADER_SIZE, n, msg));
    out_hex_field(out, 1, "message", msg, EC_P2P_HEADER_SIZE + n);
    return EC_OK;
}

int h_p2p_read_header(arena *a, const jv *in, ec_buf *out) {
    uint8_t *raw;
    size_t n;
    int network;
    ec_p2p_header h;
    SHAPE(in, "network", "header");
    TRY(in_hex(a, in, "header", &raw, &n));
    TRY(p2p_network(in, &network));
    TRY(ec_p2p_read_header(raw, n, network, &h));
    out_str_field(out, 1, "command", EC_P2P_COMMANDS[h.command]);
    out_int_field(out, 0, "length", h.length);
    out_hex_field(out, 0, "checksum", h.checksum, EC_P2P_CHECKSUM_SIZE);
    return EC_OK;
}

static void out_replies(ec_buf *out, const int *r, int n) {
    ec_buf_putc(out, '[');
    for (int i = 0; i < n; i++) {
        if (i) ec_buf_putc(out, ',');
        ec_buf_json_string(out, EC_P2P_COMMANDS[r[i]], strlen(EC_P2P_COMMANDS[r[i]]));
    }
    ec_buf_putc(out, ']');
}

int h_p2p_handshake(arena *a, const jv *in, ec_buf *out) {
    static const char *const req[] = {"inbound", "messages", NULL},
                             *const opt[] = {"local_version", "local_services", "local_nonces", NULL};
    int inbound;
    uint64_t local_version = EC_P2P_PROTOCOL_VERSION, local_services = EC_P2P_SF_NODE_NETWORK;
    uint64_t *nonces = NULL;
    size_t n_nonces = 0;
    const jv *msgs;
    TRY(in_shape(in, req, opt));
    if (json_get(in, "local_nonces")) {
        const jv *items;
        TRY(list(in, "local_nonces", &items));
        nonces = arena_alloc(a, (items->n + 1) * sizeof *nonces);
        if (!nonces) return EC_INTERNAL_ERROR;
        for (size_t i = 0; i < items->n; i++) {
            bigint b;
            if (items->items[i].type != J_STR) return EC_MALFORMED_INPUT;
            TRY(parse_decimal(items->items[i].s, items->items[i].n, &b));
            /* [ENC-005] a nonce is a u64 */
            if (b.neg || b.huge || b.mag > UINT64_MAX) return EC_VALUE_OUT_OF_RANGE;
            nonces[n_nonces++] = (uint64_t)b.mag;
        }
    }
    TRY(boolean(in, "inbound", &inbound));
    if (json_get(in, "local_version")) TRY(num(in, "local_version", UINT32_MAX, &local_version));
    if (json_get(in, "local_services")) TRY(dec(in, "local_services", 0, &local_services));
    TRY(list(in, "messages", &msgs));
    ec_p2p_message *ms = arena_alloc(a, (msgs->n + 1) * sizeof *ms);
    if (!ms) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < msgs->n; i++) {
        const jv *it = &msgs->items[i];
        const char *cmd;
        size_t clen;
        FIELDS(it, "command", "payload");
        TRY(in_text(it, "command", &cmd, &clen));
        TRY(payload_from_json(a, cmd, clen, json_get(it, "payload"), &ms[i]));
    }
    ec_peer_session s;
    ec_session_init(&s, inbound, (uint32_t)local_version, local_services, nonces, n_nonces);
    int *replies = arena_alloc(a, (2 * msgs->n + 1) * sizeof *replies), *counts = arena_alloc(a, (msgs->n + 1) * sizeof *counts);
    if (!replies || !counts) return EC_INTERNAL_ERROR;
    for (size_t i = 0; i < msgs->n; i++) {
        TRY(ec_session_step(&s, &ms[i]));
        counts[i] = s.n_replies;
        memcpy(replies + 2 * i, s.replies, sizeof s.replies);
    }
    out_key(out, 1, "replies");
    ec_buf_putc(out, '[');
    for (size_t i = 0; i < msgs->n; i++) {
        if (i) ec_buf_putc(out, ',');
        out_replies(out, replies + 2 * i, counts[i]);
    }
    ec_buf_putc(out, ']');
    out_key(out, 0, "state");
    ec_buf_putc(out, '{');
    out_key(out, 1, "version_received");
    ec_buf_puts(out, s.version_received ? "true" : "false");
    out_key(out, 0, "verack_received");
    ec_buf_puts(out, s.verack_received ? "true" : "false");
    out_int_field(out, 0, "protocol_version", s.protocol_version);
    out_dec_u64(out, 0, "services", s.services);
    out_key(out, 0, "relay");
    ec_buf_puts(out, s.relay ? "true" : "false");
    out_int_field(out, 0, "height", s.height);
    out_node_version(out, s.has_node_version, s.node_version, s.node_version_len);
    out_key(out, 0, "sent_addrs");
    ec_buf_puts(out, s.sent_addrs ? "true" : "false");
    ec_buf_putc(out, '}');
    return EC_OK;
}
