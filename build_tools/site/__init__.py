"""Build the site: discovery, one Sphinx build per variant, publishing, the index, exports and shards."""
