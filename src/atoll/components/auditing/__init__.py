"""Auditing: the trail of who changed what and who was refused, kept as rotating JSON-lines
files and searched newest first."""

from .searching import AuditPage, AuditQuery, InvalidQuery, search
from .trail import AuditTrail

__all__ = ["AuditPage", "AuditQuery", "AuditTrail", "InvalidQuery", "search"]
