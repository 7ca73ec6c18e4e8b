"""Z3 proofs of the spec's invariants.

:mod:`proofs.framework` declares and runs proofs and lists every proof module
(``PROOF_MODULES``); :mod:`proofs.runner` is ``elastos prove``.
"""
