"""The DID wallet and the `elastos did` command."""
