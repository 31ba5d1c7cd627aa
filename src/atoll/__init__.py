"""Atoll: a container platform for teams that run Kubernetes."""

__version__ = "0.1.0"
