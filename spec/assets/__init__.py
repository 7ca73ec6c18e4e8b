"""Digital assets on a sidechain: registered assets and scarce editions owned by DIDs."""
