/* libFuzzer targets, one per decoder, selected at compile time with -DFUZZ_<NAME>.
 * Built with -fsanitize=fuzzer,address,undefined by core/fuzz.py. Each target feeds the input to a
 * decoder (and the checks that run on what it decodes) and asserts the invariants every decoder
 * must keep: a reason code from the registry, and a decoded length within the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elastos_core.h"

#define CHECK(x)               \
    do {                       \
        if (!(x)) abort();     \
    } while (0)

static void check_reason(int rc) { CHECK(rc >= 0 && rc < EC_REASON_COUNT); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#if defined(FUZZ_VARUINT)
    ec_reader r = {data, size, 0};
    uint64_t v;
    int rc = ec_read_varuint(&r, &v);
    check_reason(rc);
    CHECK(r.pos <= size);
    if (rc == EC_OK) {
        uint8_t enc[9];
        size_t n = ec_varuint_encode(v, enc);
        CHECK(n == r.pos && memcmp(enc, data, n) == 0); /* canonical: decode then encode is the identity */
    }
    ec_reader r2 = {data, size, 0};
    const uint8_t *d;
    size_t dn;
    rc = ec_read_varbytes(&r2, size > 0 ? data[0] * 4u : 0, &d, &dn);
    check_reason(rc);
    if (rc == EC_OK) CHECK(d >= data && d + dn <= data + size);
#elif defined(FUZZ_BASE58)
    char *text = malloc(size + 1);
    uint8_t *out = malloc(size + 1);
    size_t n;
    uint8_t ph[21];
    memcpy(text, data, size);
    text[size] = 0;
    int rc = ec_b58_decode(text, size, out, size, &n);
    check_reason(rc);
    if (rc == EC_OK) {
        char *back = malloc(2 * n + 16);
        size_t bn;
        CHECK(ec_b58_encode(out, n, back, 2 * n + 16, &bn) == EC_OK);
        CHECK(bn == size && memcmp(back, text, size) == 0); /* base58 round-trips */
        free(back);
    }
    check_reason(ec_b58check_decode(text, size, out, size, &n));
    check_reason(ec_address_decode(text, size, ph));
    free(text);
    free(out);
#elif defined(FUZZ_CBOR)
    char *json;
    size_t jn;
    int rc = ec_cbor_decode_json(data, size, &json, &jn);
    check_reason(rc);
    if (rc == EC_OK) ec_free(json);
#elif defined(FUZZ_SCRIPT)
    ec_script s;
    check_reason(ec_script_parse(data, size, &s));
    /* split the input into code and parameter at the first byte's position */
    size_t cut = size ? data[0] % (size + 1) : 0;
    static const uint8_t msg[] = "fuzz";
    check_reason(ec_program_verify(data, cut, data + cut, size - cut, msg, sizeof msg, &s));
#elif defined(FUZZ_TX)
    ec_tx tx;
    int rc = ec_tx_decode(data, size, &tx);
    check_reason(rc);
    if (rc == EC_OK) {
        ec_chain_params p;
        memset(&p, 0, sizeof p);
        p.max_block_context_size = 2000000;
        check_reason(ec_tx_sanity(&tx, 1000, &p));
        uint8_t refs[21 * 4] = {0x21};
        check_reason(ec_check_signatures(&tx, refs, tx.n_inputs < 4 ? tx.n_inputs : 4));
        CHECK(tx.size == size && tx.unsigned_len <= size);
    }
    ec_tx_free(&tx);
#elif defined(FUZZ_BLOCK)
    ec_block b;
    int rc = ec_block_decode(data, size, &b);
    check_reason(rc);
    if (rc == EC_OK) {
        ec_chain_params p;
        memset(&p, 0, sizeof p);
        memset(p.pow_limit, 0xff, 32);
        p.pow_limit[0] = 0x7f;
        p.max_tx_per_block = 10000;
        p.max_block_context_size = 2000000;
        p.max_block_header_size = 1000000;
        p.max_time_offset = 7200;
        check_reason(ec_block_sanity(&b, &p, 1700000000));
        CHECK(b.size == size);
        ec_block_free(&b);
    }
#elif defined(FUZZ_AUXPOW)
    ec_auxpow a;
    int rc = ec_auxpow_decode(data, size, &a);
    check_reason(rc);
    if (rc == EC_OK) {
        uint8_t hash[32];
        ec_sha256d(data, size, hash);
        check_reason(ec_auxpow_check(&a, hash, 1224));
        check_reason(ec_auxpow_check(&a, a.coinbase_hash, a.aux_index));
        CHECK(a.size == size);
    }
#elif defined(FUZZ_P2P)
    /* the first byte picks the network; the rest is one whole message (header and payload) */
    if (size == 0) return 0;
    int network = data[0] % ec_p2p_network_count();
    const uint8_t *msg = data + 1;
    size_t n = size - 1;
    ec_p2p_header h;
    check_reason(ec_p2p_read_header(msg, n < 24 ? n : 24, network, &h));
    ec_p2p_message m;
    int rc = ec_p2p_decode(msg, n, network, &m);
    check_reason(rc);
    if (rc == EC_OK) {
        /* what decodes re-encodes, and the re-encoding decodes to the same encoding again */
        size_t pn, pn2;
        CHECK(ec_p2p_serialize(&m, NULL, 0, &pn) == EC_OK && pn <= n);
        uint8_t *framed = malloc(24 + pn + 1), *again = malloc(24 + pn + 1);
        CHECK(framed && again);
        CHECK(ec_p2p_serialize(&m, framed + 24, pn, &pn) == EC_OK);
        CHECK(ec_p2p_frame(network, m.command, framed + 24, pn, framed) == EC_OK);
        ec_p2p_message m2;
        CHECK(ec_p2p_decode(framed, 24 + pn, network, &m2) == EC_OK && m2.command == m.command);
        CHECK(ec_p2p_serialize(&m2, again, pn, &pn2) == EC_OK && pn2 == pn && memcmp(again, framed + 24, pn) == 0);
        /* the session rules take any decoded message */
        ec_peer_session s;
        static const uint64_t nonces[] = {0, 1};
        ec_session_init(&s, data[0] & 0x80, 20000, 1, nonces, 2);
        check_reason(ec_session_step(&s, &m));
        check_reason(ec_session_step(&s, &m));
        ec_p2p_message_free(&m2);
        ec_p2p_message_free(&m);
        free(framed);
        free(again);
    }
#elif defined(FUZZ_BITS)
    uint8_t b[16] = {0};
    memcpy(b, data, size < 16 ? size : 16);
    uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    char *dec;
    int negative;
    uint32_t canonical, out;
    if (ec_bits_to_target(bits, &dec, &negative, &canonical) == EC_OK) {
        uint32_t back;
        CHECK(ec_bits_from_target(dec, &back) == EC_OK && back == canonical); /* BigToCompact is idempotent */
        ec_free(dec);
    }
    if (ec_calc_work(bits, &dec) == EC_OK) ec_free(dec);
    /* a decimal string made of the remaining bytes */
    size_t n = size > 16 ? size - 16 : 0;
    char *text = malloc(n + 2);
    size_t k = 0;
    if (n && data[16] & 1) text[k++] = '-';
    for (size_t i = 0; i < n && i < 200; i++) text[k++] = (char)('0' + data[16 + i] % 10);
    if (k == 0 || (k == 1 && text[0] == '-')) text[k++] = '0';
    text[k] = 0;
    CHECK(ec_bits_from_target(text, &out) == EC_OK);
    free(text);
    ec_retarget p;
    memset(&p, 0, sizeof p);
    memset(p.pow_limit, 0xff, 32);
    p.pow_limit[0] = 0x7f;
    p.pow_limit_bits = 0x1f0008ff;
    p.target_timespan = 86400;
    p.target_time_per_block = 120;
    p.adjustment_factor = 4;
    uint32_t h = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    uint32_t t1 = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
    uint32_t t0 = (uint32_t)b[12] | (uint32_t)b[13] << 8 | (uint32_t)b[14] << 16 | (uint32_t)b[15] << 24;
    check_reason(ec_next_required_bits(&p, h - h % 720 + 719, bits, t1, b[4] & 1, t0, &out));
#else
#error "select a target with -DFUZZ_<NAME>"
#endif
    return 0;
}
