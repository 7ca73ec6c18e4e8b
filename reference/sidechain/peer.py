"""P2P for the ID sidechain: two or more sidechain nodes exchange blocks and transactions and agree.

It is the main node's P2P (:mod:`reference.node.peer`), subclassed only where the chain differs: the same
connection code, framing and messages (:mod:`spec.chain.p2p`: ``version``/``verack``,
``getblocks``/``inv``/``getdata``/``block``, ``tx``, ``ping``/``pong``, ``getaddr``/``addr``, ``reject``),
the same handshake timeout, the same session rules (``session_step``), the same locator
(``block_locator``/``locate_blocks``) and the same misbehaviour scores. What differs:

* the network is the sidechain's: its magic (``2017002`` on mainnet, ``2018202`` on regnet and
  ``instant``) and port, the main chain's size limits (:func:`side_network`);
* a ``block`` payload is the sidechain block alone (upstream's sidechain sends ``msg.NewBlock(block)``,
  no DPoS confirmation flag);
* every block is checked by :meth:`reference.sidechain.node.SideNode.submit_block`, i.e. by
  :func:`spec.sidechain.validation.check_side_block` against the node's own main-chain view, so a node
  only accepts a block whose SideAuxPow its own main node vouches for.

Every block goes through the node's fork choice (:meth:`reference.sidechain.node.SideNode.submit_block`,
the spec's :func:`spec.sidechain.state.add_side_block`): a competing block at or below the tip is kept on
its side branch, and becomes the tip with its branch once that branch has more work; a block whose parent
the node lacks is kept as an orphan and answered with ``getblocks`` (the locator finds the fork point, so
the peer sends the whole branch) at no cost. A node announces its tip (``inv``) whenever the tip changes,
so two nodes that saw different branches fetch each other's and both end on the branch with the most work.
Any refused block is answered with ``reject`` carrying the spec's reason and costs the peer
:data:`INVALID_SCORE`; the store keeps only the block's hash as invalid.
"""

from __future__ import annotations

from spec.chain.p2p import InvType, Network, RejectCode
from spec.chain.params import network as main_network
from spec.errors import Reject
from spec.sidechain.block import SideBlock
from spec.sidechain.params import SidechainParams

from reference.node.peer import INVALID_SCORE, P2P, Peer
from reference.sidechain.node import SideNode


def side_network(params: SidechainParams) -> Network:
    """The sidechain's network layer: its own magic and port, its main chain's size limits."""
    main = main_network(params.main_network)
    return Network(name=f"id-{params.name}", magic=params.magic, default_port=params.default_port,
                   max_block_context_size=main.max_block_context_size,
                   max_block_header_size=main.max_block_header_size)


class SidePeer(Peer):
    """A sidechain connection: the main node's :class:`~reference.node.peer.Peer` with the sidechain's block
    payload (the block alone), pool and fork choice."""

    inv_block_type = InvType.BLOCK
    log_name = "side peer"

    def block_payload(self, stored: bytes) -> bytes:
        return stored

    def decode_block(self, data: bytes) -> SideBlock:
        return SideBlock.decode(data)

    def pool_tx(self, txid: bytes) -> bytes | None:
        node = self.manager.node
        with node.lock:
            tx = node.pool.get(txid)
        return None if tx is None else tx.serialize()

    def knows_block(self, block_hash: bytes) -> bool:
        node = self.manager.node
        with node.lock:
            return bool(node.store.has_block(block_hash))

    def submit_block(self, block: SideBlock, h: bytes) -> None:
        try:
            outcome = self.manager.node.submit_block(block, source=self)
        except Reject as e:
            self.refuse(b"block", RejectCode.INVALID, e, h, INVALID_SCORE)
        else:
            if outcome.get(h) == "orphan":         # a branch we lack the start of: ask for it, no penalty
                self.send_getblocks()


class SideP2P(P2P):
    """Listens on 127.0.0.1, keeps the peers, relays the sidechain node's new blocks and pool transactions."""

    peer_class = SidePeer
    thread_name = "side-p2p"

    def network_of(self, node: SideNode) -> Network:
        return side_network(node.params)


__all__ = ["SideP2P", "SidePeer", "side_network"]
