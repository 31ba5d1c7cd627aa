"""Atoll's capabilities, one package each, registered as ``atoll.components`` entry points."""
