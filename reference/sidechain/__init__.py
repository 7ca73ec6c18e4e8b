"""The ID sidechain: a merge-mined sidechain node and the arbiter that links it to the main chain."""
