"""Atoll's own server: the platform API in front of the host cluster (and, later, members)."""
