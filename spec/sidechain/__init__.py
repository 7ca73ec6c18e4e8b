"""Sidechains merge-mined with the main chain: the sidechain header and its SideAuxPow, the ID sidechain's
parameters, and the cross-chain rules."""
