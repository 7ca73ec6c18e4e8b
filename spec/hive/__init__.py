"""Hive, the personal vault: sign-in and tokens, partitions and scripts, database, files, backup and sync.

Modules: :mod:`spec.hive.jws` (JWS compact encoding and ES256), :mod:`spec.hive.identity` (the DID
objects a sign-in carries), :mod:`spec.hive.auth` (sign-in, access tokens, token checks),
:mod:`spec.hive.access` (partitions, direct access), :mod:`spec.hive.scripts` (scripts),
:mod:`spec.hive.database` (collections and the filter language), :mod:`spec.hive.files` (files),
:mod:`spec.hive.cid` (CIDv0), :mod:`spec.hive.backup` (backup) and :mod:`spec.hive.sync`
(home-folder sync).
"""
