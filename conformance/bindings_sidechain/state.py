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
from conformance.bindings_sidechain.crosschain import _Main, _list

Json = dict[str, Any]


def _tree(data: Any) -> tuple[SS.SideTree, list[SideBlock]]:
    inp = Input(data, ("network", "main_blocks", "main_txs", "blocks"))
    params = SP.id_network(inp.choice("network", tuple(SP.ID_NETWORKS)))
    main_txs = [Transaction.decode(Input({"t": t}, ("t",)).hex("t")) for t in _list(inp, "main_txs")]
    main = _Main(set(inp.hex_list("main_blocks")), {t.txid(): t for t in main_txs})
    blocks = [SideBlock.decode(b) for b in inp.hex_list("blocks")]
    tree, _ = SS.side_fork_choice(params, blocks, main)
    return tree, blocks


def _summary(state: SS.SideState) -> Json:
    return {"tip": state.tip_hash.hex(), "height": state.height, "work": str(state.work), "utxos": len(state.utxos),
            "deposits": sorted(d.hex() for d in state.deposits), "dids": sorted(k for k, _ in state.did.dids),
            "withdrawals": [w.hex() for w in state.withdrawals]}


STATE_DOC = ("`tip`, `height`, `work`, `utxos` (count), `deposits` (main txids credited, sorted), `dids` (DIDs "
             "registered, sorted), `withdrawals` (sidechain txids burned, chain order)")


@handler("sidechain", "sidechain.fork_choice",
         "`network`, `main_blocks` (main-chain hashes the main chain holds), `main_txs` (main-chain transactions, "
         "hex), `blocks` (sidechain blocks, hex, in arrival order) -> " + STATE_DOC + " of the chosen tip, "
         "`statuses` (per block in input order: tip | valid | orphan | invalid | duplicate), `reasons` (per invalid "
         "block: its rejection reason, or `descends_from_invalid`; null otherwise)")
def _fork_choice(data: Any) -> Json:
    tree, blocks = _tree(data)
    statuses: list[str] = []
    reasons: list[str | None] = []
    seen: set[bytes] = set()
    for b in blocks:
        h = b.hash()
        st = ("tip" if h == tree.best else "valid" if h in tree.states else "orphan" if h in tree.orphans
              else "invalid")
        statuses.append("duplicate" if h in seen else st)
        seen.add(h)
        why = tree.invalid.get(h)
        reasons.append(None if st != "invalid" or why is None else
                       why if why in Reason._value2member_map_ else "descends_from_invalid")
    return {**_summary(tree.tip_state), "statuses": statuses, "reasons": reasons}


@handler("sidechain", "sidechain.reorg",
         "the input of `sidechain.fork_choice`; the last block must end up the tip -> " + STATE_DOC + "; or the "
         "rejection: SIDE_FORK_LESS_WORK (a valid side branch), BLOCK_UNKNOWN_PARENT (an orphan), "
         "SIDE_FORK_DESCENDS_INVALID, or the reason the block itself broke")
def _reorg(data: Any) -> Json:
    tree, blocks = _tree(data)
    if not blocks:
        raise Reject(Reason.MALFORMED_INPUT, None, "blocks: at least one")
    return _summary(SS.require_side_tip(tree, blocks[-1].hash()))
