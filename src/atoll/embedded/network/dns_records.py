"""Cluster DNS names and their records: the Kubernetes DNS schema over the ``ServiceCatalog``.

``ClusterZone`` answers "what does the cluster say about this name and type" — data only, no
sockets, no messages — for ``dns.ClusterDns``, which wraps the answer in a DNS response. The
names follow the Kubernetes DNS-based service discovery specification (schema 1.1.0) as
CoreDNS's kubernetes plugin serves them (with ``pods insecure``)::

    <svc>.<ns>.svc.<domain>                   A/AAAA  the ClusterIPs; headless: the ready
                                                      endpoints; ExternalName: a CNAME
    <host>.<svc>.<ns>.svc.<domain>            A/AAAA  a ready endpoint of a headless Service
    _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV     each named port (each endpoint, headless)
    <a-b-c-d>.<ns>.pod.<domain>               A       a.b.c.d, in any namespace
    <d>.<c>.<b>.<a>.in-addr.arpa              PTR     ClusterIPs and headless endpoints
    dns-version.<domain>                      TXT     the schema version

``<host>`` is the endpoint's hostname (StatefulSet pods) or, without one, its address with
dashes (``10-244-0-7``) — the "system-assigned identifier" the specification leaves open,
chosen as CoreDNS does so the names a pod sees do not change with the implementation.
"Ready" endpoints are all endpoints when the Service says ``publishNotReadyAddresses``.

Decisions:

- Every pod's every lookup lands here, so a lookup is a dict hit. The index is rebuilt one
  Service at a time when the catalog says its object or endpoints changed; names are keyed
  by their lower-cased labels (a tuple of bytes hashes in C, a ``dns.name.Name`` does not).
- A name exists when it owns records or lies above one that does (an empty non-terminal such
  as ``<ns>.svc.<domain>`` or ``_tcp.<svc>.<ns>.svc.<domain>``). Such a name answers NODATA,
  never NXDOMAIN: RFC 8020 lets resolvers read NXDOMAIN as "nothing below exists either".
  Negative answers carry the zone's SOA, whose minimum is the record TTL, so resolvers cache
  them exactly as long as positive ones.
- Outside the cluster domain and the reverse zones the answer is REFUSED: this server never
  forwards (nothing leaves the machine) and must not claim the internet's names don't exist.
- Reverse names: a PTR the index knows is always answered. For other addresses the zone is
  authoritative only inside ``reverse_networks`` (the cluster's Service and pod ranges),
  widened to the enclosing octet (IPv6: nibble) boundary, where reverse zones are cut:
  NXDOMAIN there, REFUSED elsewhere.
- A CNAME whose target is in these zones is followed (a few steps at most), as CoreDNS does,
  so an ExternalName Service aliasing another Service resolves in one round trip.
- SRV records all have priority 0 and weight 100: equal shares, which is all the
  specification asks; the SOA serial is fixed, as there are no secondaries to notify.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset
from dns.rdtypes.ANY.CNAME import CNAME
from dns.rdtypes.ANY.PTR import PTR
from dns.rdtypes.ANY.SOA import SOA
from dns.rdtypes.ANY.TXT import TXT
from dns.rdtypes.IN.A import A
from dns.rdtypes.IN.AAAA import AAAA
from dns.rdtypes.IN.SRV import SRV

from atoll.kube.informers import split_key

from .catalog import Endpoint, ServiceCatalog

__all__ = ["SCHEMA_VERSION", "ClusterZone", "Found", "Records", "service_records"]

SCHEMA_VERSION = "1.1.0"
TOLERATE_UNREADY = "service.alpha.kubernetes.io/tolerate-unready-endpoints"

Name = dns.name.Name
Rdata = dns.rdata.Rdata
RdataType = dns.rdatatype.RdataType
RRset = dns.rrset.RRset
Records = dict[Name, list[Rdata]]  # owner name -> its records (an empty list: the name exists)
_Key = tuple[bytes, ...]  # a name's labels, lower-cased: the index key

_IN = dns.rdataclass.IN
_REVERSE_V4 = dns.name.from_text("in-addr.arpa.")
_REVERSE_V6 = dns.name.from_text("ip6.arpa.")
_ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)
_MAX_CHASE = 8  # CNAME steps followed inside the zones
_ZONE_KEY = ""  # the zone's own names in the index (no Service key is empty)


@dataclass(frozen=True, slots=True)
class Found:
    """What the zones say about one (name, type): the sections of a response."""

    rcode: dns.rcode.Rcode
    answer: tuple[RRset, ...] = ()
    authority: tuple[RRset, ...] = ()
    additional: tuple[RRset, ...] = ()
    authoritative: bool = True


REFUSED = Found(dns.rcode.REFUSED, authoritative=False)


def _key(name: Name) -> _Key:
    return tuple(label.lower() for label in name.labels)


def _name(*labels: str, under: Name) -> Name | None:
    """``labels`` prepended to ``under``, or None when they make no valid name."""
    try:
        return Name([label.encode() for label in labels] + list(under.labels))
    except (dns.exception.DNSException, UnicodeError):
        return None


# -- rdata builders (dnspython's rdata constructors are untyped) -------------------------------


def _address(ip: str) -> Rdata | None:
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if parsed.version == 4:
        return A(_IN, dns.rdatatype.A, str(parsed))  # type: ignore[no-untyped-call]
    return AAAA(_IN, dns.rdatatype.AAAA, str(parsed))  # type: ignore[no-untyped-call]


def _pointer(target: Name) -> Rdata:
    return PTR(_IN, dns.rdatatype.PTR, target)  # type: ignore[no-untyped-call]


def _alias(target: Name) -> Rdata:
    return CNAME(_IN, dns.rdatatype.CNAME, target)  # type: ignore[no-untyped-call]


def _service_locator(port: int, target: Name) -> Rdata:
    return SRV(_IN, dns.rdatatype.SRV, 0, 100, port, target)  # type: ignore[no-untyped-call]


def _start_of_authority(domain: Name, ttl: int) -> Rdata:
    mname = Name([b"ns", b"dns", *domain.labels])
    rname = Name([b"hostmaster", *domain.labels])
    # refresh, retry and expire as CoreDNS; minimum (the negative-caching TTL) as the records
    return SOA(_IN, dns.rdatatype.SOA, mname, rname, 1, 7200, 1800, 86400, ttl)  # type: ignore[no-untyped-call]


# -- a Service's records -------------------------------------------------------------------------


def service_records(catalog: ServiceCatalog, key: str, domain: Name) -> Records:
    """Every name Service ``key`` owns, with its records; empty when the Service is gone."""
    service = catalog.service(key)
    namespace, name = split_key(key)
    owner = _name(name, namespace, "svc", under=domain)
    if service is None or owner is None:
        return {}
    spec = service.get("spec") or {}
    records: Records = {owner: []}
    if spec.get("type") == "ExternalName":
        _add_external_name(records, owner, str(spec.get("externalName") or ""))
    elif spec.get("clusterIP") == "None":
        _add_headless(records, owner, catalog, key, service)
    else:
        _add_cluster_ips(records, owner, spec)
    return records


def _add_external_name(records: Records, owner: Name, external: str) -> None:
    if not external:
        return
    address = _address(external)  # an address where a name belongs: kube-dns answered A
    if address is not None:
        records[owner].append(address)
        return
    try:
        records[owner].append(_alias(dns.name.from_text(external)))
    except (dns.exception.DNSException, UnicodeError):
        return


def _add_cluster_ips(records: Records, owner: Name, spec: Mapping[str, Any]) -> None:
    ips = [str(ip) for ip in spec.get("clusterIPs") or () if ip and ip != "None"]
    single = spec.get("clusterIP")
    if single and single != "None" and single not in ips:
        ips.append(str(single))
    for ip in ips:
        address = _address(ip)
        if address is not None:
            records[owner].append(address)
            records.setdefault(dns.reversename.from_address(ip), []).append(_pointer(owner))
    for port_name, protocol, entry in _named_ports(spec):
        srv = _name(f"_{port_name}", f"_{protocol}", under=owner)
        if srv is not None and entry.get("port"):
            records.setdefault(srv, []).append(_service_locator(int(entry["port"]), owner))


def _add_headless(
    records: Records, owner: Name, catalog: ServiceCatalog, key: str, service: Mapping[str, Any]
) -> None:
    spec = service.get("spec") or {}
    annotations = (service.get("metadata") or {}).get("annotations") or {}
    everyone = (
        bool(spec.get("publishNotReadyAddresses")) or annotations.get(TOLERATE_UNREADY) == "true"
    )
    ports = list(spec.get("ports") or ())
    per_port = [
        (entry, catalog.endpoints(key, entry.get("name") or entry.get("port"))) for entry in ports
    ] or [({}, catalog.endpoints(key))]
    hosts: dict[str, Name | None] = {}
    for entry, endpoints in per_port:
        serving = [e for e in endpoints if e.ready or everyone]
        for endpoint in serving:
            if endpoint.ip not in hosts:
                hosts[endpoint.ip] = _add_endpoint(records, owner, endpoint)
        port_name = str(entry.get("name") or "")
        srv = _name(f"_{port_name}", f"_{_protocol(entry)}", under=owner) if port_name else None
        if srv is None:
            continue
        records.setdefault(srv, [])
        for endpoint in serving:
            host = hosts[endpoint.ip]
            if host is not None:
                records[srv].append(_service_locator(endpoint.port, host))


def _add_endpoint(records: Records, owner: Name, endpoint: Endpoint) -> Name | None:
    """The endpoint's address under the Service's name and its own; return its own name."""
    address = _address(endpoint.ip)
    label = endpoint.hostname or endpoint.ip.replace(".", "-").replace(":", "-")
    host = _name(label, under=owner)
    if address is None or host is None:
        return None
    records[owner].append(address)
    records.setdefault(host, []).append(address)
    records.setdefault(dns.reversename.from_address(endpoint.ip), []).append(_pointer(host))
    return host


def _named_ports(spec: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for entry in spec.get("ports") or ():
        if entry.get("name"):
            yield str(entry["name"]), _protocol(entry), entry


def _protocol(entry: Mapping[str, Any]) -> str:
    return str(entry.get("protocol") or "TCP").lower()


# -- the zones -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ReverseZone:
    apex: Name
    key: _Key
    address_labels: int  # labels of a complete address name, root included


def _reverse_zone(network: str) -> _ReverseZone:
    """The reverse zone holding ``network``: its prefix cut down to an octet (IPv6: nibble)."""
    net = ipaddress.ip_network(network, strict=False)
    full = dns.reversename.from_address(str(net.network_address))
    kept = net.prefixlen // (8 if net.version == 4 else 4)
    apex = full.split(kept + 3)[1]  # + in-addr|ip6, arpa and the root
    return _ReverseZone(apex, _key(apex), len(full))


class ClusterZone:
    """The cluster domain and the reverse zones: names, their records, and lookups.

    ``follow(catalog)`` keeps it current; ``update`` takes one Service's records directly.
    """

    def __init__(
        self, *, domain: str = "cluster.local", ttl: int = 5, reverse_networks: Iterable[str] = ()
    ) -> None:
        self.domain = dns.name.from_text(domain)
        self.ttl = ttl
        reverse = {zone.key: zone for zone in map(_reverse_zone, reverse_networks)}
        # most specific first, so a /24 of a /16 is found before the /16
        self._reverse = sorted(reverse.values(), key=lambda zone: -len(zone.key))
        self._domain = _key(self.domain)
        self._apexes = {self._domain, _key(_REVERSE_V4), _key(_REVERSE_V6)}
        self._pods = _key(Name([b"pod", *self.domain.labels]))
        soa = _start_of_authority(self.domain, ttl)
        # apex -> its SOA, shared by every negative answer from that zone
        self._soas = {key: self._rrset(Name(key), [soa]) for key in (self._domain, *reverse)}
        self._by_service: dict[str, dict[_Key, list[Rdata]]] = {}
        self._contributors: dict[_Key, set[str]] = {}
        self._owners: dict[_Key, Name] = {}
        # owner -> type -> its RRset, built once per change; answers copy it under the
        # question's name (building one from rdatas hashes each rdata, the slow part)
        self._nodes: dict[_Key, dict[RdataType, RRset]] = {}
        self._names: dict[_Key, int] = {}  # owners and their ancestors: names that exist
        version = Name([b"dns-version", *self.domain.labels])
        self.update(
            _ZONE_KEY,
            {
                version: [TXT(_IN, dns.rdatatype.TXT, [SCHEMA_VERSION])],
                Name([b"svc", *self.domain.labels]): [],
                Name([b"pod", *self.domain.labels]): [],
            },
        )

    def follow(self, catalog: ServiceCatalog) -> None:
        """Index every Service of ``catalog`` now and again whenever it changes."""
        catalog.add_listener(
            lambda key: self.update(key, service_records(catalog, key, self.domain))
        )

    # -- the index ---------------------------------------------------------------------------

    def update(self, key: str, records: Records) -> None:
        """Replace what Service ``key`` contributes with ``records`` (empty: it is gone)."""
        new = {_key(owner): list(rdatas) for owner, rdatas in records.items()}
        for name in records:
            self._owners.setdefault(_key(name), name)
        old = self._by_service.pop(key, {})
        if new:
            self._by_service[key] = new
        for owner in old:
            self._contributors[owner].discard(key)
            self._count(owner, -1)
        for owner in new:
            self._contributors.setdefault(owner, set()).add(key)
            self._count(owner, +1)
        for owner in old.keys() | new.keys():
            self._rebuild(owner)

    def _count(self, owner: _Key, delta: int) -> None:
        name = owner
        while len(name) > 1 and name not in self._apexes:
            left = self._names.get(name, 0) + delta
            if left > 0:
                self._names[name] = left
            else:
                self._names.pop(name, None)
            name = name[1:]

    def _rebuild(self, owner: _Key) -> None:
        keys = self._contributors.get(owner)
        if not keys:
            self._contributors.pop(owner, None)
            self._owners.pop(owner, None)
            self._nodes.pop(owner, None)
            return
        merged: dict[RdataType, list[Rdata]] = {}
        for key in sorted(keys):
            for rdata in self._by_service[key][owner]:
                merged.setdefault(rdata.rdtype, []).append(rdata)
        name = self._owners[owner]
        self._nodes[owner] = {t: self._rrset(name, rdatas) for t, rdatas in merged.items()}

    # -- lookups -----------------------------------------------------------------------------

    def lookup(self, qname: Name, rdtype: RdataType) -> Found:
        """The answer for ``qname``/``rdtype``; answer owners keep the question's case."""
        return self._lookup(qname, rdtype, chased=0)

    def _lookup(self, qname: Name, rdtype: RdataType, *, chased: int) -> Found:
        key = _key(qname)
        apex = self._apex_of(key)
        if key == apex and rdtype in (dns.rdatatype.SOA, dns.rdatatype.ANY):
            return Found(dns.rcode.NOERROR, (_owned_by(qname, self._soas[apex]),))
        node = self._nodes.get(key)
        if node is None:
            node = self._pod(key)
        if node is not None:
            return self._from_node(qname, node, rdtype, apex=apex, chased=chased)
        if apex is None:
            return REFUSED
        authority = (self._soas[apex],)
        if key == apex or key in self._names or self._above_synthesized(key, apex):
            return Found(dns.rcode.NOERROR, authority=authority)
        return Found(dns.rcode.NXDOMAIN, authority=authority)

    def _from_node(
        self,
        qname: Name,
        node: Mapping[RdataType, RRset],
        rdtype: RdataType,
        *,
        apex: _Key | None,
        chased: int,
    ) -> Found:
        if rdtype == dns.rdatatype.ANY:
            return Found(dns.rcode.NOERROR, tuple(_owned_by(qname, r) for r in node.values()))
        found = node.get(rdtype)
        if found:
            additional = self._targets(found) if rdtype == dns.rdatatype.SRV else ()
            return Found(dns.rcode.NOERROR, (_owned_by(qname, found),), additional=additional)
        aliases = node.get(dns.rdatatype.CNAME)
        if aliases:
            return self._chase(qname, aliases, rdtype, chased=chased)
        authority = () if apex is None else (self._soas[apex],)
        return Found(dns.rcode.NOERROR, authority=authority)

    def _chase(self, qname: Name, aliases: RRset, rdtype: RdataType, *, chased: int) -> Found:
        cname = _owned_by(qname, aliases)
        target: Name = next(iter(aliases)).target
        if chased >= _MAX_CHASE or self._apex_of(_key(target)) is None:
            return Found(dns.rcode.NOERROR, (cname,))
        then = self._lookup(target, rdtype, chased=chased + 1)
        # RFC 6604: the rcode speaks of the last name of the chain
        rcode = then.rcode if then.rcode == dns.rcode.NXDOMAIN else dns.rcode.NOERROR
        return Found(rcode, (cname, *then.answer), then.authority, then.additional)

    def _targets(self, locators: RRset) -> tuple[RRset, ...]:
        """The address records of SRV targets, for the additional section."""
        found: list[RRset] = []
        seen: set[_Key] = set()
        for locator in locators:
            key = _key(locator.target)
            node = self._nodes.get(key)
            if node is None or key in seen:
                continue
            seen.add(key)
            found.extend(node[t] for t in _ADDRESS_TYPES if t in node)
        return tuple(found)

    def _apex_of(self, key: _Key) -> _Key | None:
        if key[-len(self._domain) :] == self._domain:
            return self._domain
        for zone in self._reverse:
            if key[-len(zone.key) :] == zone.key:
                return zone.key
        return None

    def _pod(self, key: _Key) -> dict[RdataType, RRset] | None:
        """``<a-b-c-d>.<ns>.pod.<domain>``: A a.b.c.d, whatever the namespace."""
        if len(key) != len(self._pods) + 2 or key[2:] != self._pods:
            return None
        try:
            ip = ipaddress.IPv4Address(key[0].decode("ascii").replace("-", "."))
        except (ValueError, UnicodeError):
            return None
        address = _address(str(ip))
        return {dns.rdatatype.A: self._rrset(Name(key), [address])} if address else None

    def _above_synthesized(self, key: _Key, apex: _Key) -> bool:
        """Names above ones made up on the fly: ``<ns>.pod.<domain>``, partial addresses."""
        if apex == self._domain:
            return len(key) == len(self._pods) + 1 and key[1:] == self._pods
        zone = next(zone for zone in self._reverse if zone.key == apex)
        return len(key) < zone.address_labels

    def _rrset(self, owner: Name, rdatas: Iterable[Rdata]) -> RRset:
        return dns.rrset.from_rdata_list(owner, self.ttl, list(rdatas))


def _owned_by(owner: Name, template: RRset) -> RRset:
    """``template``'s records under ``owner`` (the question's spelling), without rebuilding."""
    rrset = cast(RRset, template.copy())  # type: ignore[no-untyped-call]
    rrset.name = owner
    return rrset
