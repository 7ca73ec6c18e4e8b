"""The ELA main chain in its proof-of-work era: types, codecs, proof of work, validation, state.

=====================  =========================================================================
module                 what it holds
=====================  =========================================================================
``merkle``             the transaction merkle root (duplicate-last) and merkle branches
``pow``                compact bits, work, proof of work, retarget
``auxpow``             the Bitcoin parent (coinbase tx, 80-byte header) and the AuxPoW check
``tx``                 transactions: attributes, inputs, outputs, output payloads, programs, payloads
``block``              the 84-byte header, its hash, the block
``params``             frozen network parameters and the genesis blocks
``validation``         block and transaction sanity and context checks
``state``              the UTXO set, ``apply_block`` and fork choice
``p2p``                the peer-to-peer messages of the network layer
=====================  =========================================================================

The DPoS era is a later profile: nothing here depends on DPoS, and the parameters carry no DPoS
heights.
"""
