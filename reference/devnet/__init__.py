"""``elastos devnet``: the whole network OS on loopback (:mod:`reference.devnet.scenario`), and the
commands that look after a kept one (:mod:`reference.devnet.manage`)."""
