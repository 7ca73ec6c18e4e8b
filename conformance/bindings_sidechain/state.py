"""Handlers of the ``sidechain`` suite for fork choice (:mod:`spec.sidechain.state`): blocks arrive in order,
the spec's :func:`~spec.sidechain.state.add_side_block` decides each, and the handler reports the tip and
what the tip's chain holds."""

from __future__ import annotations

from typing import Any

from spec.errors import Reason, Reject
from spec.sidechain import params as SP
from spec.sidechain import state as SS
from spec.sidechain.block import SideBlock
from spec.chain.tx import Transaction

from conformance.bindings import Input, handler
from conformance.bindings_chain.chain import ARRIVAL_DOC, arrival_report
from conformance.bindings_sidechain.crosschain import _Main, _list

Json = dict[str, Any]


def _tree(data: Any, report: bool = False) -> tuple[SS.SideTree, list[SideBlock], tuple[list[str], list[str | None]]]:
    """The tree after the request's blocks, the blocks, and (with ``report``) :func:`arrival_report`'s
    statuses and reasons."""
    inp = Input(data, ("network", "main_blocks", "main_txs", "blocks"))
    params = SP.id_network(inp.choice("network", tuple(SP.ID_NETWORKS)))
    main_txs = [Transaction.decode(Input({"t": t}, ("t",)).hex("t")) for t in _list(inp, "main_txs")]
    main = _Main(set(inp.hex_list("main_blocks")), {t.txid(): t for t in main_txs})
    blocks = [SideBlock.decode(b) for b in inp.hex_list("blocks")]
    tree = SS.new_side_tree(params)

    def add(i: int) -> dict[bytes, str]:
        nonlocal tree
        tree, outcome = SS.add_side_block(tree, blocks[i], main)
        return outcome

    def status(h: bytes) -> str | None:
        return ("tip" if h == tree.best else "valid" if h in tree.states else "orphan" if h in tree.orphans
                else "invalid" if h in tree.invalid else None)

    refusals: dict[bytes, str] = {}
    hashes = [b.hash() for b in blocks]
    if report:
        statuses, reasons = arrival_report(hashes, add, status, lambda h: tree.invalid[h])
        return tree, blocks, (statuses, reasons)
    for i in range(len(blocks)):
        refusals.update(add(i))
    last = hashes[-1] if hashes else None
    if last is not None and status(last) is None:   # the last block refused, not remembered: say why
        raise Reject(Reason(refusals[last]), None, "the block was refused (and not remembered)")
    return tree, blocks, ([], [])


def _summary(state: SS.SideState) -> Json:
    return {"tip": state.tip_hash.hex(), "height": state.height, "work": str(state.work), "utxos": len(state.utxos),
            "deposits": sorted(d.hex() for d in state.deposits), "dids": sorted(k for k, _ in state.did.dids),
            "withdrawals": [w.hex() for w in state.withdrawals]}


STATE_DOC = ("`tip`, `height`, `work`, `utxos` (count), `deposits` (main txids credited, sorted), `dids` (DIDs "
             "registered, sorted), `withdrawals` (sidechain txids burned, chain order)")


@handler("sidechain", "sidechain.fork_choice",
         "`network`, `main_blocks` (main-chain hashes the main chain holds), `main_txs` (main-chain transactions, "
         "hex), `blocks` (sidechain blocks, hex, in arrival order) -> " + STATE_DOC + " of the chosen tip, "
         + ARRIVAL_DOC)
def _fork_choice(data: Any) -> Json:
    tree, _, (statuses, reasons) = _tree(data, report=True)
    return {**_summary(tree.tip_state), "statuses": statuses, "reasons": reasons}


@handler("sidechain", "sidechain.reorg",
         "the input of `sidechain.fork_choice`; the last block must end up the tip -> " + STATE_DOC + "; or the "
         "rejection: SIDE_FORK_LESS_WORK (a valid side branch), BLOCK_UNKNOWN_PARENT (an orphan), "
         "SIDE_FORK_DESCENDS_INVALID, or the reason the block itself broke")
def _reorg(data: Any) -> Json:
    tree, blocks, _ = _tree(data)
    if not blocks:
        raise Reject(Reason.MALFORMED_INPUT, None, "blocks: at least one")
    return _summary(SS.require_side_tip(tree, blocks[-1].hash()))
