"""Emit MyST per variant: the expanded talk as the lines Sphinx reads, with their origins."""
