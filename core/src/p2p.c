/* ELA's peer-to-peer messages and the session rules of a connection (spec/chain/p2p.py).
 *
 * Framing: a 24-byte header (magic u32, a 12-byte NUL-padded command, payload length u32, the
 * first 4 bytes of sha256d(payload)) and the payload. The receiver's checks run in the spec's
 * order: the command field (P2P-001), the magic (P2P-002), a known command (P2P-003), the declared
 * length against the command's maximum (P2P-004), then the payload's length, the checksum
 * (P2P-005) and the payload itself, which must be consumed exactly (ENC-002). The commands, the
 * magics and the maxima come from the spec through elastos_tables.h. */
#include <stdlib.h>
#include <string.h>

#include "elastos_tables.h"
#include "internal.h"

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int ec_p2p_network_count(void) { return EC_P2P_NETWORKS_COUNT; }

int ec_p2p_command_of(const uint8_t *name, size_t len) {
    for (int i = 0; i < EC_P2P_COMMANDS_COUNT; i++)
        if (strlen(EC_P2P_COMMANDS[i]) == len && memcmp(EC_P2P_COMMANDS[i], name, len) == 0) return i;
    return -1;
}

static int valid_network(int network) { return network >= 0 && network < EC_P2P_NETWORKS_COUNT; }

/* MessageHeader.deserialize, then read_message_header's checks; the header is exactly 24 bytes */
int ec_p2p_read_header(const uint8_t *data, size_t len, int network, ec_p2p_header *h) {
    ec_reader r = {data, len, 0};
    const uint8_t *field, *p;
    if (!valid_network(network)) return EC_INTERNAL_ERROR;
    memset(h, 0, sizeof *h);
    h->command = -1;
    TRY(ec_read_u32(&r, &h->magic));
    TRY(ec_read(&r, EC_P2P_COMMAND_SIZE, &field));
    const uint8_t *nul = memchr(field, 0, EC_P2P_COMMAND_SIZE);
    /* [P2P-001] at least one NUL, and only NULs after the first */
    if (!nul) return EC_COMMAND_FIELD_MALFORMED;
    for (const uint8_t *q = nul; q < field + EC_P2P_COMMAND_SIZE; q++)
        if (*q) return EC_COMMAND_FIELD_MALFORMED;
    h->name_len = (size_t)(nul - field);
    memcpy(h->name, field, h->name_len);
    TRY(ec_read_u32(&r, &h->length));
    TRY(ec_read(&r, EC_P2P_CHECKSUM_SIZE, &p));
    memcpy(h->checksum, p, EC_P2P_CHECKSUM_SIZE);
    TRY(ec_finish(&r));
    const ec_p2p_network *net = &EC_P2P_NETWORKS[network];
    /* [P2P-002] the network's magic */
    if (h->magic != net->magic) return EC_WRONG_NETWORK_MAGIC;
    h->command = ec_p2p_command_of(h->name, h->name_len);
    /* [P2P-003] a command of this profile */
    if (h->command < 0) return EC_UNKNOWN_COMMAND;
    /* [P2P-004] the declared length is at most the command's maximum */
    if (h->length > net->max_payload[h->command]) return EC_PAYLOAD_TOO_LARGE;
    return EC_OK;
}

void ec_p2p_message_free(ec_p2p_message *m) {
    free(m->addresses);
    free(m->inventory);
    m->addresses = NULL;
    m->inventory = NULL;
    m->n_addresses = m->n_inventory = 0;
}

/* `count` records of `size` bytes must fit in what is left: a huge count fails at the first
 * missing record, as the spec's loop does, without allocating for it */
static int records_fit(ec_reader *r, uint64_t count, size_t size) {
    if (count > (r->len - r->pos) / size) {
        r->pos += (r->len - r->pos) / size * size;
        return EC_TRUNCATED;
    }
    return EC_OK;
}

static int read_inventory(ec_reader *r, ec_p2p_message *m) {
    uint32_t count;
    const uint8_t *p;
    TRY(ec_read_u32(r, &count));
    /* [P2P-007] at most 50000 inventory vectors */
    if (count > EC_P2P_MAX_INV_PER_MSG) return EC_TOO_MANY_ITEMS;
    TRY(records_fit(r, count, EC_P2P_INV_VECT_SIZE));
    m->inventory = calloc(count ? count : 1, sizeof *m->inventory);
    if (!m->inventory) return EC_INTERNAL_ERROR;
    for (uint32_t i = 0; i < count; i++) {
        TRY(ec_read(r, EC_P2P_INV_VECT_SIZE, &p));
        m->inventory[i].type = le32(p);
        memcpy(m->inventory[i].hash, p + 4, 32);
    }
    m->n_inventory = count;
    return EC_OK;
}

static int read_addresses(ec_reader *r, ec_p2p_message *m) {
    uint64_t count, v;
    const uint8_t *p;
    TRY(ec_read_u64(r, &count));
    /* [P2P-008] at most 1000 addresses */
    if (count > EC_P2P_MAX_ADDR_PER_MSG) return EC_TOO_MANY_ITEMS;
    TRY(records_fit(r, count, EC_P2P_NET_ADDRESS_SIZE));
    m->addresses = calloc(count ? count : 1, sizeof *m->addresses);
    if (!m->addresses) return EC_INTERNAL_ERROR;
    for (uint64_t i = 0; i < count; i++) {
        ec_net_address *a = &m->addresses[i];
        TRY(ec_read_u64(r, &v));
        a->timestamp = (int64_t)v;
        TRY(ec_read_u64(r, &a->services));
        TRY(ec_read(r, EC_P2P_IP_SIZE, &p));
        memcpy(a->ip, p, EC_P2P_IP_SIZE);
        TRY(ec_read_u16(r, &a->port));
    }
    m->n_addresses = (size_t)count;
    return EC_OK;
}

static int payload_read(ec_reader *r, int command, ec_p2p_message *m) {
    uint8_t b;
    uint32_t count;
    switch (command) {
    case EC_CMD_VERSION:
        TRY(ec_read_u32(r, &m->version));
        TRY(ec_read_u64(r, &m->services));
        TRY(ec_read_u32(r, &m->timestamp));
        TRY(ec_read_u16(r, &m->port));
        TRY(ec_read_u64(r, &m->nonce));
        TRY(ec_read_u64(r, &m->height));
        TRY(ec_read_u8(r, &b));
        m->relay = b != 0; /* any non-zero byte reads as true (ReadBool) */
        /* [P2P-006] the node version string is there exactly when version >= 80000 */
        if (m->version >= EC_P2P_CR_PROPOSAL_VERSION) {
            m->has_node_version = 1;
            TRY(ec_read_varbytes(r, EC_P2P_MAX_VAR_STRING_LENGTH, &m->node_version, &m->node_version_len));
        }
        return EC_OK;
    case EC_CMD_VERACK:
    case EC_CMD_GETADDR:
    case EC_CMD_MEMPOOL:
        return EC_OK;
    case EC_CMD_ADDR:
        return read_addresses(r, m);
    case EC_CMD_PING:
    case EC_CMD_PONG:
        return ec_read_u64(r, &m->nonce);
    case EC_CMD_GETBLOCKS:
        TRY(ec_read_u32(r, &count));
        /* [P2P-009] at most 500 locator hashes */
        if (count > EC_P2P_MAX_BLOCK_LOCATORS_PER_MSG) return EC_TOO_MANY_ITEMS;
        TRY(ec_read(r, (size_t)count * 32, &m->locator));
        m->n_locator = count;
        return ec_read(r, 32, &m->hash_stop);
    case EC_CMD_INV:
    case EC_CMD_GETDATA:
    case EC_CMD_NOTFOUND:
        return read_inventory(r, m);
    case EC_CMD_BLOCK:
    case EC_CMD_TX:
        m->data_len = r->len - r->pos;
        return ec_read(r, m->data_len, &m->data);
    case EC_CMD_REJECT:
        TRY(ec_read_varbytes(r, EC_P2P_MAX_VAR_STRING_LENGTH, &m->rejected_command, &m->rejected_command_len));
        TRY(ec_read_u8(r, &m->code));
        TRY(ec_read_varbytes(r, EC_P2P_MAX_VAR_STRING_LENGTH, &m->reason, &m->reason_len));
        return ec_read(r, 32, &m->hash);
    default:
        return EC_UNKNOWN_COMMAND;
    }
}

int ec_p2p_decode_payload(int command, const uint8_t *payload, size_t len, ec_p2p_message *m) {
    ec_reader r = {payload, len, 0};
    memset(m, 0, sizeof *m);
    m->command = command;
    int rc = payload_read(&r, command, m);
    if (rc == EC_OK) rc = ec_finish(&r); /* [ENC-002] the payload is consumed exactly */
    if (rc) ec_p2p_message_free(m);
    return rc;
}

int ec_p2p_decode(const uint8_t *data, size_t len, int network, ec_p2p_message *m) {
    ec_p2p_header h;
    uint8_t sum[32];
    memset(m, 0, sizeof *m);
    /* [ENC-001] the 24 header bytes are there */
    if (len < EC_P2P_HEADER_SIZE) return EC_TRUNCATED;
    TRY(ec_p2p_read_header(data, EC_P2P_HEADER_SIZE, network, &h));
    size_t have = len - EC_P2P_HEADER_SIZE;
    /* [ENC-001] the declared payload is there, [ENC-002] and nothing follows it */
    if (have < h.length) return EC_TRUNCATED;
    if (have > h.length) return EC_TRAILING_BYTES;
    ec_sha256d(data + EC_P2P_HEADER_SIZE, have, sum);
    /* [P2P-005] the checksum is the first 4 bytes of sha256d(payload) */
    if (memcmp(sum, h.checksum, EC_P2P_CHECKSUM_SIZE) != 0) return EC_BAD_CHECKSUM;
    return ec_p2p_decode_payload(h.command, data + EC_P2P_HEADER_SIZE, have, m);
}

/* a VarString: its VarUint length, then the bytes; `o` may be NULL (sizing) */
static size_t put_varbytes(uint8_t *o, const uint8_t *d, size_t n) {
    uint8_t vu[9];
    size_t k = ec_varuint_encode(n, vu);
    if (o) {
        memcpy(o, vu, k);
        if (n) memcpy(o + k, d, n);
    }
    return k + n;
}

/* Message.serialize: the write-side count checks, then the fields (o NULL: sizing only) */
static int payload_write(const ec_p2p_message *m, uint8_t *o, size_t *n) {
    size_t k = 0;
    switch (m->command) {
    case EC_CMD_VERSION:
        /* [P2P-006] a node version string exactly when version >= CRProposalVersion */
        if ((m->has_node_version != 0) != (m->version >= EC_P2P_CR_PROPOSAL_VERSION)) return EC_NODE_VERSION_FIELD;
        if (o) {
            put32(o, m->version);
            put64(o + 4, m->services);
            put32(o + 12, m->timestamp);
            put16(o + 16, m->port);
            put64(o + 18, m->nonce);
            put64(o + 26, m->height);
            o[34] = m->relay ? 1 : 0;
        }
        k = 35;
        if (m->has_node_version) k += put_varbytes(o ? o + k : NULL, m->node_version, m->node_version_len);
        break;
    case EC_CMD_VERACK:
    case EC_CMD_GETADDR:
    case EC_CMD_MEMPOOL:
        break;
    case EC_CMD_ADDR:
        /* [P2P-008] at most 1000 addresses */
        if (m->n_addresses > EC_P2P_MAX_ADDR_PER_MSG) return EC_TOO_MANY_ITEMS;
        if (o) put64(o, m->n_addresses);
        k = 8;
        for (size_t i = 0; i < m->n_addresses; i++, k += EC_P2P_NET_ADDRESS_SIZE) {
            const ec_net_address *a = &m->addresses[i];
            if (!o) continue;
            put64(o + k, (uint64_t)a->timestamp);
            put64(o + k + 8, a->services);
            memcpy(o + k + 16, a->ip, EC_P2P_IP_SIZE);
            put16(o + k + 32, a->port);
        }
        break;
    case EC_CMD_PING:
    case EC_CMD_PONG:
        if (o) put64(o, m->nonce);
        k = 8;
        break;
    case EC_CMD_GETBLOCKS:
        /* [P2P-009] at most 500 locator hashes */
        if (m->n_locator > EC_P2P_MAX_BLOCK_LOCATORS_PER_MSG) return EC_TOO_MANY_ITEMS;
        if (o) {
            put32(o, (uint32_t)m->n_locator);
            if (m->n_locator) memcpy(o + 4, m->locator, 32 * m->n_locator);
            memcpy(o + 4 + 32 * m->n_locator, m->hash_stop, 32);
        }
        k = 4 + 32 * m->n_locator + 32;
        break;
    case EC_CMD_INV:
    case EC_CMD_GETDATA:
    case EC_CMD_NOTFOUND:
        /* [P2P-007] at most 50000 inventory vectors */
        if (m->n_inventory > EC_P2P_MAX_INV_PER_MSG) return EC_TOO_MANY_ITEMS;
        if (o) put32(o, (uint32_t)m->n_inventory);
        k = 4;
        for (size_t i = 0; i < m->n_inventory; i++, k += EC_P2P_INV_VECT_SIZE) {
            if (!o) continue;
            put32(o + k, m->inventory[i].type);
            memcpy(o + k + 4, m->inventory[i].hash, 32);
        }
        break;
    case EC_CMD_BLOCK:
    case EC_CMD_TX:
        if (o && m->data_len) memcpy(o, m->data, m->data_len);
        k = m->data_len;
        break;
    case EC_CMD_REJECT:
        k = put_varbytes(o, m->rejected_command, m->rejected_command_len);
        if (o) o[k] = m->code;
        k += 1;
        k += put_varbytes(o ? o + k : NULL, m->reason, m->reason_len);
        if (o) memcpy(o + k, m->hash, 32);
        k += 32;
        break;
    default:
        return EC_UNKNOWN_COMMAND;
    }
    *n = k;
    return EC_OK;
}

int ec_p2p_serialize(const ec_p2p_message *m, uint8_t *out, size_t cap, size_t *outlen) {
    size_t n;
    TRY(payload_write(m, NULL, &n));
    *outlen = n;
    if (!out) return EC_OK;
    if (cap < n) return EC_INTERNAL_ERROR;
    return payload_write(m, out, &n);
}

int ec_p2p_frame(int network, int command, const uint8_t *payload, size_t len, uint8_t *out) {
    uint8_t sum[32];
    if (!valid_network(network) || command < 0 || command >= EC_P2P_COMMANDS_COUNT) return EC_INTERNAL_ERROR;
    /* [P2P-004] the payload is at most the command's maximum */
    if (len > EC_P2P_NETWORKS[network].max_payload[command]) return EC_PAYLOAD_TOO_LARGE;
    put32(out, EC_P2P_NETWORKS[network].magic);
    memset(out + 4, 0, EC_P2P_COMMAND_SIZE);
    memcpy(out + 4, EC_P2P_COMMANDS[command], strlen(EC_P2P_COMMANDS[command]));
    put32(out + 16, (uint32_t)len);
    ec_sha256d(payload, len, sum);
    memcpy(out + 20, sum, EC_P2P_CHECKSUM_SIZE);
    if (len) memcpy(out + EC_P2P_HEADER_SIZE, payload, len);
    return EC_OK;
}

/* -- the session ------------------------------------------------------------------------------- */

void ec_session_init(ec_peer_session *s, int inbound, uint32_t local_version, uint64_t local_services,
                     const uint64_t *local_nonces, size_t n_local_nonces) {
    memset(s, 0, sizeof *s);
    s->inbound = inbound;
    s->local_version = local_version;
    s->local_services = local_services;
    s->local_nonces = local_nonces;
    s->n_local_nonces = n_local_nonces;
    s->relay = 1;
}

/* session_step: on a rejection the session is left as it was */
int ec_session_step(ec_peer_session *s, const ec_p2p_message *m) {
    if (!s->version_received) {
        /* [P2P-010] the first message from a peer is version */
        if (m->command != EC_CMD_VERSION) return EC_VERSION_NOT_FIRST;
        for (size_t i = 0; i < s->n_local_nonces; i++)
            /* [P2P-013] not one of this node's own nonces */
            if (s->local_nonces[i] == m->nonce) return EC_SELF_CONNECTION;
        uint32_t negotiated = m->version < s->local_version ? m->version : s->local_version;
        int full_node = (m->services & EC_P2P_SF_NODE_NETWORK) == EC_P2P_SF_NODE_NETWORK;
        /* [P2P-014] a full-node peer speaks DPOSStartVersion or later */
        if (full_node && negotiated < EC_P2P_DPOS_START_VERSION) return EC_PROTOCOL_VERSION_TOO_OLD;
        s->version_received = 1;
        s->protocol_version = negotiated;
        s->services = m->services;
        s->relay = m->relay;
        s->height = (uint32_t)m->height;
        s->has_node_version = m->has_node_version;
        s->node_version = m->node_version;
        s->node_version_len = m->node_version_len;
        s->n_replies = 0;
        if (s->inbound) s->replies[s->n_replies++] = EC_CMD_VERSION;
        s->replies[s->n_replies++] = EC_CMD_VERACK;
        return EC_OK;
    }
    /* [P2P-011] one version per connection */
    if (m->command == EC_CMD_VERSION) return EC_DUPLICATE_VERSION;
    int replies = 0, reply = -1;
    switch (m->command) {
    case EC_CMD_VERACK:
        /* [P2P-012] at most one verack */
        if (s->verack_received) return EC_DUPLICATE_VERACK;
        s->verack_received = 1;
        break;
    case EC_CMD_PING:
    case EC_CMD_PONG:
        s->height = (uint32_t)m->nonce;
        if (m->command == EC_CMD_PING) reply = EC_CMD_PONG, replies = 1;
        break;
    case EC_CMD_ADDR:
        /* [P2P-015] an addr message lists at least one address */
        if (m->n_addresses == 0) return EC_EMPTY_ADDR;
        break;
    case EC_CMD_GETADDR:
        if (s->inbound && !s->sent_addrs) {
            s->sent_addrs = 1;
            reply = EC_CMD_ADDR, replies = 1;
        }
        break;
    case EC_CMD_NOTFOUND:
        for (size_t i = 0; i < m->n_inventory; i++)
            /* [P2P-016] notfound lists transactions only */
            if (m->inventory[i].type != EC_P2P_INV_TYPE_TX) return EC_NOTFOUND_NON_TX;
        break;
    case EC_CMD_MEMPOOL:
        /* [P2P-017] mempool only to a node that offers SFTxFiltering */
        if ((s->local_services & EC_P2P_SF_TX_FILTERING) != EC_P2P_SF_TX_FILTERING) return EC_SERVICE_NOT_OFFERED;
        break;
    default:
        break;
    }
    s->n_replies = replies;
    if (replies) s->replies[0] = reply;
    return EC_OK;
}
