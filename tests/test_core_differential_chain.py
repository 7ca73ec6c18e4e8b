"""Differential tests of the C core's chain-state and peer-to-peer parts against the spec: P2P
messages (decoded from valid encodings with mutations, encoded from random messages), message
headers, peer sessions, ``apply_block`` (blocks built on a real chain with random faults) and fork
choice (random block trees fed in random orders). Any disagreement in result or reason fails and
is written out as a would-be vector (``reports/differential/``), as in ``test_core_differential.py``."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from spec.chain import builder, p2p
from spec.chain import state as S
from spec.chain.params import INSTANT, genesis_block
from spec.errors import Reject
from tests.helpers import FORGERIES, forged_copy
from tests.test_core_differential import FAST, SLOW, agree, core, core_outcome, mutate, spec_outcome

U16, U32, U64 = st.integers(0, 0xFFFF), st.integers(0, 0xFFFF_FFFF), st.integers(0, 2**64 - 1)
HASH = st.binary(min_size=32, max_size=32)
NETWORK = st.sampled_from(list(p2p.NETWORKS))


@st.composite
def version_messages(draw: Any) -> p2p.MsgVersion:
    version = draw(st.one_of(st.sampled_from([10_001, 19_999, 20_000, 79_999, 80_000, 90_000]), U32))
    node_version = draw(st.binary(max_size=12)) if version >= p2p.CR_PROPOSAL_VERSION else None
    return p2p.MsgVersion(version=version, services=draw(st.one_of(st.integers(0, 7), U64)), timestamp=draw(U32),
                          port=draw(U16), nonce=draw(st.one_of(st.integers(0, 3), U64)), height=draw(U64),
                          relay=draw(st.booleans()), node_version=node_version)


ADDRESS = st.builds(p2p.NetAddress, timestamp=st.integers(-(2**63), 2**63 - 1), services=U64,
                    ip=st.binary(min_size=16, max_size=16), port=U16)
INV = st.builds(p2p.InvVect, type=st.one_of(st.integers(0, 5), U32), hash=HASH)

MESSAGES = st.one_of(
    version_messages(),
    st.sampled_from([p2p.MsgVerAck(), p2p.MsgGetAddr(), p2p.MsgMemPool()]),
    st.builds(p2p.MsgAddr, addresses=st.lists(ADDRESS, max_size=3).map(tuple)),
    st.builds(p2p.MsgPing, nonce=U64), st.builds(p2p.MsgPong, nonce=U64),
    st.builds(p2p.MsgGetBlocks, locator=st.lists(HASH, max_size=3).map(tuple), hash_stop=HASH),
    st.builds(p2p.MsgInv, inventory=st.lists(INV, max_size=3).map(tuple)),
    st.builds(p2p.MsgGetData, inventory=st.lists(INV, max_size=3).map(tuple)),
    st.builds(p2p.MsgNotFound, inventory=st.lists(INV, max_size=3).map(tuple)),
    st.builds(p2p.MsgBlock, data=st.binary(max_size=40)), st.builds(p2p.MsgTx, data=st.binary(max_size=40)),
    st.builds(p2p.MsgReject, rejected_command=st.binary(max_size=12), code=st.integers(0, 255),
              reason=st.binary(max_size=20), hash=HASH),
)


# -- messages ------------------------------------------------------------------------------------------


@FAST
@given(MESSAGES, NETWORK, NETWORK, st.data())
def test_p2p_decode(m: p2p.Message, sender: str, receiver: str, d: st.DataObject) -> None:
    data = p2p.encode_message(p2p.NETWORKS[sender], m)
    if d.draw(st.booleans()):
        data = mutate(data, d.draw)

    def spec() -> tuple[str, bytes]:
        got = p2p.decode_message(data, p2p.NETWORKS[receiver])
        return got.command, got.serialize()

    code, command, payload = core.p2p_decode(data, receiver)
    agree("p2p_decode", {"network": receiver, "message": data}, spec_outcome(spec), core_outcome(code, (command, payload)))


@FAST
@given(st.one_of(MESSAGES, st.builds(p2p.MsgVersion, version=st.integers(79_990, 80_010), services=U64, timestamp=U32,
                                     port=U16, nonce=U64, height=U64, relay=st.booleans(),
                                     node_version=st.one_of(st.none(), st.binary(max_size=4)))), NETWORK)
def test_p2p_encode(m: p2p.Message, network: str) -> None:
    """Encoding, including version messages whose node_version does not match their version (P2P-006)."""
    code, data = core.p2p_encode(network, m)
    agree("p2p_encode", {"network": network, "command": m.command, "payload": repr(m)},
          spec_outcome(lambda: p2p.encode_message(p2p.NETWORKS[network], m)), core_outcome(code, data))


@FAST
@given(MESSAGES, NETWORK, NETWORK, st.data())
def test_p2p_read_header(m: p2p.Message, sender: str, receiver: str, d: st.DataObject) -> None:
    header = p2p.encode_message(p2p.NETWORKS[sender], m)[:24]
    if d.draw(st.booleans()):
        header = mutate(header, d.draw)

    def spec() -> tuple[str, int, bytes]:
        h = p2p.read_message_header(header, p2p.NETWORKS[receiver])
        return h.name, h.length, h.checksum

    code, got = core.p2p_read_header(header, receiver)
    agree("p2p_read_header", {"network": receiver, "header": header}, spec_outcome(spec), core_outcome(code, got))


SESSION_MESSAGES = st.one_of(
    version_messages(), st.sampled_from([p2p.MsgVerAck(), p2p.MsgGetAddr(), p2p.MsgMemPool(), p2p.MsgAddr(addresses=())]),
    st.builds(p2p.MsgAddr, addresses=st.lists(ADDRESS, min_size=1, max_size=1).map(tuple)),
    st.builds(p2p.MsgPing, nonce=U64), st.builds(p2p.MsgPong, nonce=U64),
    st.builds(p2p.MsgNotFound, inventory=st.lists(INV, max_size=2).map(tuple)),
    st.builds(p2p.MsgInv, inventory=st.lists(INV, max_size=2).map(tuple)),
)


@FAST
@given(st.booleans(), st.sampled_from([10_001, 20_000, 80_000]), st.integers(0, 7), st.lists(st.integers(0, 3), max_size=2),
       st.lists(SESSION_MESSAGES, max_size=6), st.booleans())
def test_session(inbound: bool, local_version: int, local_services: int, nonces: list[int], messages: list[p2p.Message],
                 version_first: bool) -> None:
    if version_first and messages and not isinstance(messages[0], p2p.MsgVersion):
        messages = [p2p.MsgVersion(version=20_000, services=1, timestamp=0, port=0, nonce=9, height=7, relay=True),
                    *messages]

    def spec() -> tuple[list[tuple[str, ...]], dict[str, Any]]:
        s = p2p.PeerSession(inbound=inbound, local_version=local_version, local_services=local_services,
                            local_nonces=tuple(nonces))
        s, replies = p2p.run_session(s, messages)
        fields = ("version_received", "verack_received", "protocol_version", "services", "relay", "height",
                  "sent_addrs", "node_version")
        return replies, {k: getattr(s, k) for k in fields}

    code, replies, state = core.run_session(inbound, local_version, local_services, nonces, messages)
    agree("p2p_handshake", {"inbound": inbound, "messages": [repr(m) for m in messages]}, spec_outcome(spec),
          core_outcome(code, (replies, state)))


# -- apply_block ------------------------------------------------------------------------------------------

BASE = 112
"""The differential chain: the node benchmark's blocks 1..BASE on ``instant``; blocks 108 and 112 spend
the coinbases of heights 4..11, so 1..3 and 12 are mature and unspent, 13.. immature."""
NOW = 1_700_000_000
FAULTS = ("none", "none", "none", "none", "height+1", "height-1", "bits", "time_old", "time_far", "reward+1",
          "reward-1", "lock")


@functools.lru_cache(maxsize=1)
def _base() -> tuple[S.ChainState, Any, list[Any]]:
    from conformance.bench_node import build_blocks

    blocks = list(build_blocks(BASE))
    state, cstate = S.genesis_state(INSTANT), core.CoreState("instant")
    for b in blocks:
        state, _ = S.apply_block(state, b, NOW)
        assert cstate.apply_code(b.serialize(), NOW) == 0
    return state, cstate, blocks


def _spec_summary(s: S.ChainState) -> tuple[bytes, int, int, list[tuple[bytes, int, int, bytes]]]:
    return (s.tip().hash, s.height, s.work,
            [(t, i, e.output.value, e.output.program_hash) for (t, i), e in sorted(s.utxos.items())])


@SLOW
@given(st.data())
def test_apply_block(d: st.DataObject) -> None:
    """A block on the chain's tip with transfers spending mature, spent, immature, unknown or foreign outputs
    (fees of 1000, 100 or 99), and at most one header or coinbase fault: height, bits, a timestamp before the
    median or too far ahead, a coinbase paying one sela too much or too little, a time-locked transfer."""
    from conformance.bench_node import KEY, MINER

    state, cstate, blocks = _base()
    tip = blocks[-1].header
    fault = d.draw(st.sampled_from(FAULTS))
    height = tip.height + 1 + {"height+1": 1, "height-1": -1}.get(fault, 0)
    bits = 0x207FFFFE if fault == "bits" else INSTANT.pow_limit_bits  # a wrong bits, still cheap to mine
    timestamp = tip.timestamp + {"time_old": -20, "time_far": 8000}.get(fault, 1)
    now = tip.timestamp
    txs, fees = [], 0
    sources = st.one_of(st.sampled_from([1, 2, 3, 12]), st.integers(4, 11), st.integers(13, BASE), st.just(BASE + 1))
    for src in d.draw(st.lists(sources, max_size=3, unique=True)):
        txid = blocks[src - 1].transactions[0].txid() if src <= BASE else bytes(32)
        index = d.draw(st.sampled_from([1, 1, 1, 0, 2]))  # 1: the miner's output; 0: the foundation's
        value = blocks[src - 1].transactions[0].outputs[1].value if src <= BASE else 10**8
        fee = d.draw(st.sampled_from([1000, 1000, 100, 99]))
        lock = height + 5 if fault == "lock" and not txs else 0
        tx = builder.transfer([(txid, index)], [(MINER, value - fee)], lock_time=lock)
        txs.append(builder.sign_standard(tx, [KEY]))
        fees += fee
    cb = builder.coinbase(height, INSTANT, MINER, fees=fees + {"reward+1": 1, "reward-1": -1}.get(fault, 0))
    block = builder.solve(builder.block_template(tip.hash(), height, timestamp, bits, [cb, *txs]))
    data = block.serialize()

    def spec() -> Any:
        return _spec_summary(S.apply_block(state, block, now)[0])

    c = cstate.copy()
    code = c.apply_code(data, now)
    outcome = spec_outcome(spec)
    event(f"apply: {outcome[0] if outcome[0] == 'ok' else outcome[1]}")
    agree("block_apply", {"block": data, "now": now}, outcome,
          core_outcome(code, c.summary() if code == 0 else None))
    if code:  # a refused block leaves the state as it was
        assert c.summary() == cstate.summary()


# -- transaction context ---------------------------------------------------------------------------------------

ARBITER_KEYS = tuple((0xA0 + i).to_bytes(32, "big") for i in range(4))


def _context_tx(d: st.DataObject, blocks: list[Any], height: int, arbiters: list[bytes]) -> Any:
    """A transaction for the tip's context: a signed, badly signed or unsigned transfer, a transaction of the
    chain itself, or a SideChainPow signed by the on-duty arbiter or by another key."""
    from conformance.bench_node import KEY, MINER
    from spec.chain.params import DESTROY_ADDRESS
    from spec.chain.tx import SideChainPowPayload, Transaction, TxType
    from spec.crypto.p256 import ecdsa_sign

    kind = d.draw(st.sampled_from(["transfer"] * 6 + ["chain", "sidechain_pow"]))
    if kind == "chain":
        return d.draw(st.sampled_from([tx for b in blocks for tx in b.transactions[1:]]))
    if kind == "sidechain_pow":
        payload = SideChainPowPayload(side_block_hash=d.draw(HASH), side_genesis_hash=d.draw(HASH), block_height=d.draw(U32),
                                      signature=b"")
        duty = ARBITER_KEYS[(height - 1) % len(arbiters)] if arbiters else ARBITER_KEYS[0]
        key = d.draw(st.sampled_from([duty, duty, ARBITER_KEYS[3]]))
        payload = payload.model_copy(update={"signature": ecdsa_sign(key, payload.unsigned())})
        inputs = d.draw(st.sampled_from([(), (blocks[0].transactions[0].txid(), 1)]))
        base = builder.transfer([inputs] if inputs else [], [(MINER, 10**8 - 1000)] if inputs else [])
        return Transaction(version=base.version, tx_type=TxType.SIDECHAIN_POW, payload=payload, attributes=(),
                           inputs=base.inputs, outputs=base.outputs, lock_time=0)
    # transfers: from the coinbases (mature, spent, immature, beyond the tip), the chain's transfers, unknown txids
    spendable = [(b.transactions[0].txid(), 1, b.transactions[0].outputs[1].value) for b in blocks] + \
        [(tx.txid(), i, o.value) for b in blocks for tx in b.transactions[1:] for i, o in enumerate(tx.outputs)]
    mature = spendable[:3] + spendable[11:12] + spendable[BASE:]
    source = st.one_of(*[st.sampled_from(mature)] * 4, st.sampled_from(spendable),
                       st.tuples(st.sampled_from([bytes(32), bytes([1]) * 32]), st.integers(0, 2), st.just(10**8)))
    inputs = d.draw(st.lists(source, min_size=1, max_size=2))
    index = d.draw(st.sampled_from([None, None, None, 0, 2]))  # another output of the same transaction
    inputs = [(t, i if index is None else index, v) for t, i, v in inputs]
    total = sum(v for _, _, v in inputs)
    fee = d.draw(st.sampled_from([1000, 1000, 100, 99, 0, -1]))
    to = d.draw(st.sampled_from([MINER] * 6 + [bytes([0x1F]) + bytes(20), bytes([0x4B]) + bytes(20), DESTROY_ADDRESS]))
    lock_time = d.draw(st.sampled_from([0, 0, 0, height - 1, height + 5]))
    sequence = d.draw(st.sampled_from([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFE]))
    tx = builder.transfer([(t, i) for t, i, _ in inputs], [(to, total - fee)], lock_time=lock_time, sequence=sequence,
                          nonce=d.draw(st.binary(max_size=2)))
    how = d.draw(st.sampled_from(["sign"] * 4 + ["unsigned", "other_key", "twice"]))
    if how == "unsigned":
        return tx
    signed = builder.sign_standard(tx, [ARBITER_KEYS[0] if how == "other_key" else KEY])
    return builder.sign_standard(signed, [KEY, KEY]) if how == "twice" else signed


@FAST
@given(st.data())
def test_tx_context(d: st.DataObject) -> None:
    """``check_tx_context`` (the node's pool check and every transaction of a block) against ``ec_tx_context`` on a
    view of what the transaction names, as the node's C backend loads it: random transfers, transactions of the
    chain, SideChainPows with and without arbiters, half of them mutated as bytes and decoded again by the spec,
    at the next height or another; the verdict, the reason and the fee must agree."""
    from spec.chain import validation
    from spec.chain.tx import decode_transaction
    from spec.crypto.p256 import public_key_from_private
    from spec.errors import DecodeError

    state, _, blocks = _base()
    height = d.draw(st.one_of(st.just(BASE + 1), st.integers(1, BASE + 120)))
    arbiters = [public_key_from_private(k) for k in ARBITER_KEYS[:d.draw(st.sampled_from([0, 0, 1, 3]))]]
    params = INSTANT.model_copy(update={"cross_chain_arbiters": tuple(arbiters)})
    tx = _context_tx(d, blocks, height, arbiters)
    if d.draw(st.booleans()):
        data = mutate(tx.serialize(), d.draw)
        try:
            tx = decode_transaction(data)
        except DecodeError:
            event("context: mutation does not decode")
            data = tx.serialize()
    got = core.tx_context_code(tx, height, state, params)
    assert got is not None
    # the original, which the C backend's hook wraps once installed
    spec_check = core._spec_check_tx_context or validation.check_tx_context
    outcome = spec_outcome(lambda: spec_check(tx, height, state, params))
    event(f"context: {outcome[0] if outcome[0] == 'ok' else outcome[1]}")
    agree("tx_context", {"tx": tx.serialize(), "height": height, "arbiters": arbiters}, outcome,
          core_outcome(got[0], got[1]))


# -- fork choice ---------------------------------------------------------------------------------------------


@SLOW
@given(st.data())
def test_fork_choice(d: st.DataObject) -> None:
    """A random block tree on ``instant`` (each block on a random earlier one, some with a wrong height or
    reward), fed in a random order with repeats; the statuses, reasons, tip and work must agree."""
    from conformance.bench_node import MINER
    from spec.chain.params import genesis_block

    g = genesis_block("instant")
    built = [(g.hash(), 0, g.header.timestamp)]
    blocks = []
    for i in range(d.draw(st.integers(1, 7))):
        parent, ph, pts = d.draw(st.sampled_from(built))
        height = ph + 1 + d.draw(st.sampled_from([0, 0, 0, 0, 1]))
        extra = d.draw(st.sampled_from([0, 0, 0, 0, 1]))
        cb = builder.coinbase(height, INSTANT, MINER, fees=extra, nonce=bytes([i]))
        b = builder.solve(builder.block_template(parent, height, pts + 1, INSTANT.pow_limit_bits, [cb]))
        built.append((b.hash(), height, b.header.timestamp))
        blocks.append(b)
    pool = blocks + _mutants(d, blocks)
    order = d.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool) + 2))
    data = [b.serialize() for b in order]

    def spec() -> Any:
        tree, statuses, reasons = _spec_feed(S.new_tree(INSTANT), order)
        tip = tree.tip_state
        return tip.tip().hash, tip.height, tip.work, statuses, reasons

    code, got = core.fork_choice("instant", data, NOW)
    outcome = spec_outcome(spec)
    event(f"fork choice: tip at height {outcome[1][1]}, {sorted(set(outcome[1][3]))}")
    agree("fork_choice", {"network": "instant", "blocks": data, "now": NOW}, outcome, core_outcome(code, got))


@functools.lru_cache(maxsize=1)
def _base_tree() -> Any:
    state, _, blocks = _base()
    tree = S.new_tree(INSTANT)
    for b in blocks:
        tree, _ = S.add_block(tree, b, NOW)
    assert tree.tip_state.tip().hash == state.tip().hash
    return tree


@SLOW
@given(st.data())
def test_fork_choice_with_spends(d: st.DataObject) -> None:
    """Branches on the differential chain whose blocks spend its mature coinbases (the same output on several
    branches, sometimes twice on one), fed in a random order after the chain: the C tree moves its one working
    state between branches by undoing and reconnecting blocks, so the best tip's unspent outputs must be the
    spec's too, besides the statuses, reasons, tip and work."""
    from conformance.bench_node import FEE, KEY, MINER

    _, _, base = _base()
    tip = base[-1]
    built = [(tip.hash(), tip.header.height, tip.header.timestamp)]
    coins = [base[h - 1].transactions[0] for h in (1, 2, 3, 12)]  # mature and unspent at the chain's tip
    blocks = []
    for i in range(d.draw(st.integers(1, 8))):
        parent, ph, pts = d.draw(st.one_of(st.sampled_from(built), st.sampled_from(built[-2:])))  # long branches too
        txs = []
        for c in d.draw(st.lists(st.sampled_from(coins), max_size=2)):
            tx = builder.transfer([(c.txid(), 1)], [(MINER, c.outputs[1].value - FEE)], nonce=bytes([i]))
            txs.append(builder.sign_standard(tx, [KEY]))
        cb = builder.coinbase(ph + 1, INSTANT, MINER, fees=FEE * len(txs), nonce=bytes([i]))
        b = builder.solve(builder.block_template(parent, ph + 1, pts + 1, INSTANT.pow_limit_bits, [cb, *txs]))
        built.append((b.hash(), ph + 1, b.header.timestamp))
        blocks.append(b)
    pool = blocks + _mutants(d, blocks)
    order = d.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool) + 2))

    def spec() -> Any:
        tree, statuses, reasons = _spec_feed(_base_tree(), order)
        s = tree.tip_state
        return (s.tip().hash, s.height, s.work, statuses, reasons, _spec_summary(s)[3])

    code, got = core.fork_choice("instant", [b.serialize() for b in base + order], NOW, with_utxos=True)
    if code == 0:
        n = len(base)
        got = (*got[:3], got[3][n:], got[4][n:], got[5])
    outcome = spec_outcome(spec)
    event(f"fork choice with spends: tip at height {outcome[1][1]}, {sorted(set(map(str, outcome[1][3])))}")
    agree("fork_choice", {"network": "instant", "blocks": [b.serialize() for b in order], "now": NOW}, outcome,
          core_outcome(code, got))


def test_state_index_hash_is_siphash24() -> None:
    """The state's index hash against the reference vectors of SipHash-2-4 (Aumasson and Bernstein's
    ``vectors.h``: key 00..0f, message 00..n-1)."""
    key = bytes(range(16))
    for n, want in ((0, "310e0edd47db6f72"), (1, "fd67dc93c539f874"), (2, "5a4fa9d909806c0d"),
                    (3, "2d7efbd796666785"), (15, "e545be4961ca29a1")):
        assert core.lib.ec_siphash24(key, bytes(range(n)), n).to_bytes(8, "little").hex() == want, n


@FAST
@given(st.lists(st.tuples(st.sampled_from([bytes([i]) * 32 for i in range(4)]), st.integers(0, 5), U64), max_size=60),
       st.lists(st.tuples(st.sampled_from([bytes([i]) * 32 for i in range(6)]), U16), max_size=20))
def test_state_loading_is_a_dict(entries: list[tuple[bytes, int, int]], counts: list[tuple[bytes, int]]) -> None:
    """Entries loaded into a C state (``ec_state_add_utxo``, ``ec_state_add_tx_count``), with repeated keys
    and several outputs of one transaction, behave as a dict's updates: the later entry wins, each key is held
    once, every key is found and no other; a copy holds the same; sorting rebuilds the index (every key still
    found) and yields (txid, index) order."""
    s = core.ffi.gc(core.ffi.new("ec_chain_state *"), core.lib.ec_state_free)
    core.lib.ec_state_init(s, 0)
    u = core.ffi.new("ec_utxo *")
    utxos: dict[tuple[bytes, int], int] = {}
    for txid, index, value in entries:
        core.ffi.memmove(u.txid, txid, 32)
        u.index, u.value = index, value - 2**63
        assert core.lib.ec_state_add_utxo(s, u) == 0
        utxos[txid, index] = value - 2**63
    tx_counts: dict[bytes, int] = {}
    for txid, n in counts:
        assert core.lib.ec_state_add_tx_count(s, txid, n) == 0
        tx_counts[txid] = n
    c = core.ffi.gc(core.ffi.new("ec_chain_state *"), core.lib.ec_state_free)
    assert core.lib.ec_state_copy(s, c) == 0
    core.lib.ec_state_sort_utxos(s)
    assert [(bytes(s.utxos[i].txid), s.utxos[i].index) for i in range(s.n_utxos)] == sorted(utxos)
    for state in (s, c):
        assert state.n_utxos == len(utxos) and state.n_txs == len(tx_counts)
        for i in range(4):
            txid = bytes([i]) * 32
            for index in range(7):
                e = core.lib.ec_state_utxo(state, txid, index)
                assert (e == core.ffi.NULL) == ((txid, index) not in utxos)
                if e != core.ffi.NULL:
                    assert bytes(e.txid) == txid and e.index == index and e.value == utxos[txid, index]
        for i in range(7):
            txid = bytes([i]) * 32
            assert core.lib.ec_state_output_count(state, txid) == tx_counts.get(txid, -1)


@functools.lru_cache(maxsize=2)
def _coinbase_chain(n: int, key: int = 0xB3C5) -> tuple[bytes, ...]:
    """``n`` blocks on the instant genesis, each with its coinbase alone, paying the miner of private key ``key``
    (another key, another branch: the coinbases differ)."""
    from spec.crypto.p256 import public_key_from_private

    miner = builder.standard_program_hash(public_key_from_private(key.to_bytes(32, "big")))
    g = genesis_block("instant")
    prev, ts, chain = g.hash(), g.header.timestamp, []
    for h in range(1, n + 1):
        b = builder.solve(builder.block_template(prev, h, ts + 1, INSTANT.pow_limit_bits,
                                                 [builder.coinbase(h, INSTANT, miner)]))
        prev, ts = b.hash(), b.header.timestamp
        chain.append(b.serialize())
    return tuple(chain)


def test_fork_choice_is_linear_in_the_blocks() -> None:
    """5,000 blocks in one request: the tree's own work (index probes, orphan links, queued blocks, blocks
    undone and reconnected: ``ec_block_tree.steps``) grows linearly, a few steps per block, both for a chain
    fed in order and for the same chain fed in reverse (every block an orphan until the last arrives); so does
    the working state's (``ec_chain_state.ops``: its hash indexes' probes, entries moved and rehashed)."""
    chain = _coinbase_chain(5000)
    totals, state_totals = {}, {}
    for n in (1000, 5000):
        for order in ("forward", "reverse"):
            blocks = list(chain[:n]) if order == "forward" else list(chain[:n][::-1])
            steps: list[int] = []
            ops: list[int] = []
            code, got = core.fork_choice("instant", blocks, NOW, steps=steps, state_ops=ops)
            assert code == 0 and got[1] == n and got[3].count("tip") == 1 and set(got[3]) == {"tip", "valid"}
            totals[order, n] = steps[-1]
            state_totals[order, n] = ops[-1]
            if order == "forward":  # in order, the last thousand blocks cost no more than the first thousand
                first, last = steps[999] - steps[0], steps[-1] - steps[-1000]
                assert last <= first * 1.25 + 100, (first, last)
    for order in ("forward", "reverse"):
        # a bounded number of steps per block, and five times the blocks cost five times the steps
        assert totals[order, 5000] <= 10 * 5000, totals
        assert totals[order, 5000] <= 5 * totals[order, 1000] * 1.1, totals
        # the state's work: a bounded number of operations per block, and linear (a rehash of the doubled
        # indexes costs each entry once more, so the ratio moves a little with where the last doubling fell)
        assert state_totals[order, 5000] <= 30 * 5000, state_totals
        assert state_totals[order, 5000] <= 5 * state_totals[order, 1000] * 1.4, state_totals


def test_state_work_is_linear_in_the_chain() -> None:
    """The node benchmark's chain of 6,000 blocks (coinbases, and every fourth block four signed transfers
    spending old coinbases into two outputs each) applied one block at a time with ``ec_state_apply_block``:
    the state's container work (``ec_chain_state.ops``: index probes, entries moved or rehashed, the rules'
    lookups included) stays a few operations per input, output and transaction of the blocks, as few for the
    last thousand blocks, on a state of about 18,000 unspent outputs, as for the first thousand. The sorted
    arrays this replaced moved half of the unspent outputs for every block (O(n^2) over a chain)."""
    from conformance.bench_node import build_blocks

    c = core.CoreState("instant")
    items, ratios = 0, {}
    for h, b in enumerate(build_blocks(6000), 1):
        assert c.apply_code(b.serialize(), NOW) == 0
        items += sum(len(t.inputs) + len(t.outputs) + 1 for t in b.transactions)
        if h % 1000 == 0:
            ratios[h] = c.ops / items
    assert c.ptr.n_utxos > 15_000
    assert max(ratios.values()) <= 6, ratios
    assert ratios[6000] <= 1.3 * ratios[1000], ratios


def test_reorganization_work_is_linear() -> None:
    """A branch of 2,001 blocks from the genesis (another miner) overtakes a chain of 2,000: the working state
    connects the 2,000, undoes them all and connects the branch. Its work stays a bounded number of operations
    per block connected or undone, and the best tip's unspent outputs are exactly the genesis's and the
    branch's coinbase outputs: every output of the undone chain is gone."""
    from spec.chain.block import decode_block

    a, b = _coinbase_chain(2000), _coinbase_chain(2001, key=0xC0FFEE)
    ops: list[int] = []
    code, got = core.fork_choice("instant", [*a, *b], NOW, with_utxos=True, state_ops=ops)
    tip = decode_block(b[-1])
    assert code == 0 and got[0] == tip.hash() and got[1] == 2001
    assert got[3][:2000] == ["valid"] * 2000 and got[3][-1] == "tip"
    _, genesis = core.fork_choice("instant", [], NOW, with_utxos=True)
    expected = list(genesis[5])
    for raw in b:
        cb = decode_block(raw).transactions[0]
        expected += [(cb.txid(), i, o.value, o.program_hash) for i, o in enumerate(cb.outputs)]
    assert got[5] == sorted(expected)
    moved = 2000 + 2000 + 2001  # connected, undone, connected
    assert ops[-1] <= 15 * moved, (ops[-1], moved)


@FAST
@given(st.data())
def test_block_context_at_a_retarget_height(d: st.DataObject) -> None:
    """``check_block_context`` against ``ec_block_context`` on regnet, which retargets every 720 blocks, at and
    beside a retarget height: the required bits read the window's first header from the chain's headers. No
    vector reaches this path of the state (a block's ``pre`` chain would need 719 blocks mined at regnet's
    difficulty, about two million hashes each), so both sides are given the same hand-made headers: random
    timestamps for the window's first header and the tip, random tip bits, and a block carrying the required
    bits or others, stamped before or after the median time."""
    from conformance.bench_node import MINER
    from spec.chain.params import REGNET
    from spec.chain.state import ChainState
    from spec.chain.validation import HeaderInfo, check_block_context, expected_bits

    tip_height = d.draw(st.sampled_from([719, 1439, 1438, 1440, 2159]))
    first = tip_height - 719
    base = 1_600_000_000
    stamps = [base + 120 * h for h in range(tip_height + 1)]
    stamps[first] = d.draw(st.integers(0, 0xFFFF_FFFF))
    stamps[tip_height] = d.draw(st.one_of(st.integers(0, 0xFFFF_FFFF), st.just(stamps[first] + 86_400 & 0xFFFF_FFFF)))
    tip_bits = d.draw(st.sampled_from([0x1D03FFFF, 0x1F0008FF, 0x1B0404CB, 0x207FFFFF, 0]))
    headers = tuple(HeaderInfo(hash=h.to_bytes(32, "little"), height=h, timestamp=t,
                               bits=tip_bits if h == tip_height else 0x1D03FFFF) for h, t in enumerate(stamps))
    view = ChainState(params=REGNET, headers=headers, utxos={}, tx_outputs={}, work=0)
    required = expected_bits(view, REGNET)
    bits = d.draw(st.sampled_from([required, required, required ^ 1, 0x1D03FFFF]))
    timestamp = d.draw(st.sampled_from([max(stamps[-11:]), max(stamps[-11:]), base + 120 * (tip_height - 20)]))
    height = tip_height + 1
    block = builder.block_template(headers[-1].hash, height, timestamp, bits, [builder.coinbase(height, REGNET, MINER)])

    c = core.ffi.new("ec_chain_state *")  # filled by hand, so never handed to ec_state_free
    core.lib.ec_state_init(c, core.state_network_index("regnet"))
    arr = core.ffi.new("ec_header_info[]", len(headers))
    for i, h in enumerate(headers):
        core.ffi.memmove(arr[i].hash, h.hash, 32)
        arr[i].height, arr[i].timestamp, arr[i].bits = h.height, h.timestamp, h.bits
    c.headers, c.n_headers, c.cap_headers = arr, len(headers), len(headers)
    cb = core.decode_block(block.serialize())
    code = int(core.lib.ec_block_context(cb.ptr, c))
    outcome = spec_outcome(lambda: check_block_context(block, view, REGNET))
    event(f"retarget context: {outcome[0] if outcome[0] == 'ok' else outcome[1]}")
    agree("block_context_retarget", {"tip_height": tip_height, "stamps": [stamps[first], stamps[tip_height]],
                                     "tip_bits": tip_bits, "block": block.serialize()}, outcome, core_outcome(code, 0))


def test_apply_block_refusal_keeps_state() -> None:
    """A block on an unknown parent is refused with ST-001's reason and the C state is left unchanged."""
    state, cstate, blocks = _base()
    c = cstate.copy()
    before = c.summary()
    code = c.apply_code(blocks[5].serialize(), NOW)  # its parent is not the tip
    try:
        S.apply_block(state, blocks[5], NOW)
    except Reject as e:
        assert core.reason(code) is e.reason
    else:
        raise AssertionError("the spec accepted a block on a stale parent")
    assert c.summary() == before


def _sha256d_hashlib(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def _paths() -> list[int]:
    """The 64-byte double SHA-256 codes this CPU can run: OpenSSL's (0) always, SHA-NI (1) and AVX-512 (2) where
    it has them."""
    return [code for code in (0, 1, 2) if core.lib.ec_sha256d64_select(code) == code]


def test_the_fastest_code_is_selected_where_the_cpu_has_it() -> None:
    """The run-time selection follows the CPU's flags (CPUID, as /proc/cpuinfo reports them): AVX-512 (F and BW)
    is the default where the CPU has it, else SHA-NI where it has the SHA extensions, so the tests below run
    it; asking for a code selects the highest the CPU can run at or below it, and the default comes back."""
    from pathlib import Path

    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text().split() if cpuinfo.exists() else []
    shani = "sha_ni" in flags and "sse4_1" in flags
    avx512 = "avx512f" in flags and "avx512bw" in flags
    best = 2 if avx512 else 1 if shani else 0
    try:
        assert core.lib.ec_sha256d64_select(0) == 0 and core.lib.ec_sha256d64_selected() == 0
        assert core.lib.ec_sha256d64_select(1) == int(shani) == core.lib.ec_sha256d64_selected()
        assert core.lib.ec_sha256d64_select(2) == best == core.lib.ec_sha256d64_selected()
        assert core.lib.ec_sha256d64_select(7) == best and core.lib.ec_sha256d64_select(-1) == 0
    finally:
        core.lib.ec_sha256d64_select(2)
    assert core.lib.ec_sha256d64_selected() == best


@FAST
@given(st.lists(st.binary(min_size=64, max_size=64), max_size=40), st.booleans())
def test_sha256d_of_merkle_pairs(pairs: list[bytes], in_place: bool) -> None:
    """``ec_sha256d64`` (one input) and ``ec_sha256d64_many`` (two at a time on the SHA-NI code, and an odd one
    alone; on the AVX-512 code, calls of 32 or more sixteen at a time, below), written beside the inputs or over
    them as a merkle level is, on each code the CPU can run, against ``hashlib``'s SHA-256 twice and the spec's
    ``sha256d``."""
    from spec.crypto.hashes import sha256d

    want = [_sha256d_hashlib(p) for p in pairs]
    assert want == [sha256d(p) for p in pairs]
    data = b"".join(pairs)
    try:
        for path in _paths():
            assert core.lib.ec_sha256d64_select(path) == path
            buf = core.ffi.new("uint8_t[]", data or b"\0")
            out = buf if in_place else core.ffi.new("uint8_t[]", 32 * len(pairs) or 1)
            core.lib.ec_sha256d64_many(buf, out, len(pairs))
            got = core.ffi.buffer(out, 32 * len(pairs))[:]
            agree("sha256d64_many", {"bytes": data, "path": path}, ("ok", b"".join(want)), ("ok", got))
            for p, w in zip(pairs, want):
                one = core.ffi.new("uint8_t[32]")
                core.lib.ec_sha256d64(p, one)
                agree("sha256d64", {"bytes": p, "path": path}, ("ok", w), ("ok", bytes(one)))
    finally:
        core.lib.ec_sha256d64_select(2)


@pytest.mark.parametrize("n", [31, 32, 33, 39, 40, 47, 48, 63, 64, 100, 257])
def test_sha256d_of_many_pairs_in_groups(n: int) -> None:
    """``ec_sha256d64_many`` at the sizes where the AVX-512 code changes course: below 32 pairs (the SHA-NI code),
    whole groups of sixteen, a last group of one to seven (the SHA-NI code) and of eight to fifteen (padded to
    sixteen); beside the inputs and in place, on each code the CPU can run, against ``hashlib``."""
    import hashlib

    data = hashlib.shake_256(f"pairs/{n}".encode()).digest(64 * n)
    want = b"".join(_sha256d_hashlib(data[64 * i:64 * i + 64]) for i in range(n))
    try:
        for path in _paths():
            assert core.lib.ec_sha256d64_select(path) == path
            for in_place in (False, True):
                buf = core.ffi.new("uint8_t[]", data)
                out = buf if in_place else core.ffi.new("uint8_t[]", 32 * n)
                core.lib.ec_sha256d64_many(buf, out, n)
                assert core.ffi.buffer(out, 32 * n)[:] == want, (path, in_place)
    finally:
        core.lib.ec_sha256d64_select(2)


@FAST
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=70))
def test_merkle_root_on_each_sha256_code(hashes: list[bytes]) -> None:
    """``ec_merkle_root`` on each code the CPU can run, OpenSSL's, SHA-NI and AVX-512 (levels of odd and even
    sizes, hashed in place sixteen or two pairs at a time) against the spec's ``merkle_root``."""
    from spec.chain.merkle import merkle_root

    try:
        for path in _paths():
            assert core.lib.ec_sha256d64_select(path) == path
            agree("merkle_root", {"hashes": hashes, "path": path}, spec_outcome(lambda: merkle_root(hashes)),
                  spec_outcome(lambda: core.merkle_root(hashes)))
    finally:
        core.lib.ec_sha256d64_select(2)


@FAST
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=8).filter(lambda hs: any(len(h) != 32 for h in hs)))
def test_merkle_binding_refuses_a_hash_of_another_length(hashes: list[bytes]) -> None:
    """The binding refuses a list holding a hash of another length than 32 bytes (even when the lengths add up
    to 32 per hash) with WRONG_LENGTH, before the C core reads anything."""
    from spec.errors import DecodeError, Reason

    try:
        core.merkle_root(hashes)
    except DecodeError as e:
        assert e.reason is Reason.WRONG_LENGTH
    else:
        raise AssertionError(f"accepted hashes of lengths {[len(h) for h in hashes]}")


@FAST
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=8), st.data())
def test_merkle_binding_measures_a_hash_in_bytes_not_items(hashes: list[bytes], d: st.DataObject) -> None:
    """A memoryview of wider items (format H, I or Q) whose ``len`` is 32 holds 64, 128 or 256 bytes: it is not a
    32-byte hash. Both paths refuse the list with WRONG_LENGTH; joining it would shift every later hash and hash
    bytes that belong to no leaf (a list of two such items had the root of the first one's bytes alone)."""
    from spec.errors import DecodeError, Reason

    fmt, size = d.draw(st.sampled_from([("H", 64), ("I", 128), ("Q", 256)]))
    wide = memoryview(d.draw(st.binary(min_size=size, max_size=size))).cast(fmt)
    assert len(wide) == 32 and wide.nbytes > 32
    i = d.draw(st.integers(0, len(hashes)))
    items: list[Any] = [*hashes[:i], wide, *hashes[i:]]
    for fn in (core.merkle_root, core.merkle_root_cffi):
        with pytest.raises(DecodeError) as e:
            fn(items)
        assert e.value.reason is Reason.WRONG_LENGTH, fn


class _LenSays32(bytes):
    """A bytes subclass whose ``len`` claims 32 whatever it holds."""

    def __len__(self) -> int:
        return 32


@FAST
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=8), st.binary(max_size=31), st.data())
def test_merkle_binding_is_not_fooled_by_a_len_that_lies(hashes: list[bytes], short: bytes,
                                                         d: st.DataObject) -> None:
    """A hash whose ``len`` says 32 but whose buffer is shorter: the joined hashes are shorter than 32 bytes a hash,
    and handing them to ``ec_merkle_root`` with the list's length made it read past the buffer's end (ASan: a
    heap-buffer-overflow read in ec_merkle_root). Both paths refuse it with WRONG_LENGTH instead."""
    from spec.errors import DecodeError, Reason

    i = d.draw(st.integers(0, len(hashes)))
    items: list[Any] = [*hashes[:i], _LenSays32(short), *hashes[i:]]
    for fn in (core.merkle_root, core.merkle_root_cffi):
        with pytest.raises(DecodeError) as e:
            fn(items)
        assert e.value.reason is Reason.WRONG_LENGTH, fn


def _spec_feed(tree: Any, order: list[Any]) -> tuple[Any, list[Any], list[Any]]:
    """Feed ``order`` to the spec's ``tree``: the final tree and each submitted block's status and reason in the
    adapter's terms (the binding's own :func:`conformance.bindings_chain.chain.feed_blocks`)."""
    from conformance.bindings_chain.chain import feed_blocks

    return feed_blocks(tree, order, NOW)


def _mutants(d: st.DataObject, blocks: list[Any]) -> list[Any]:
    """Copies of some of ``blocks`` under the same hash, as a relay could send them (:func:`helpers.forged_copy`)."""
    if not blocks:
        return []
    return [forged_copy(b, d.draw(st.sampled_from(FORGERIES)))
            for b in d.draw(st.lists(st.sampled_from(blocks), max_size=3))]
