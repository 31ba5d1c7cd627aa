"""Cluster DNS: what CoreDNS's kubernetes plugin serves, inside the embedded cluster's process.

Pods' resolv.conf names this server (``search <ns>.svc.<domain> svc.<domain> <domain>``,
``ndots:5``); ``ClusterDns`` answers from a ``dns_records.ClusterZone`` kept current by the
``ServiceCatalog`` and listens on UDP and TCP. ``answer`` turns one parsed query into its
response and is tested directly; ``reply`` adds the wire format; ``listening``/``serve`` add
the sockets.

Decisions:

- No forwarding, ever: a name outside the cluster domain and the reverse zones is REFUSED,
  so nothing a pod asks leaves this machine.
- AA is set on every answer from the zones and RA never (the server does not recurse).
  glibc and Go both take a NOERROR reply with no answer and neither AA nor RA for a lame
  referral and give up — the NODATA a Service's AAAA gets beside its A must carry AA.
- Plain asyncio protocols, no task per query: an answer is a few dict hits, computed inside
  ``datagram_received``/``data_received``; a TCP connection pauses reading while its writes
  are backed up. Works the same under uvloop.
- UDP replies fit 512 bytes, or the EDNS payload the client offers up to 1232 (the 2020 DNS
  flag day's size, which no path fragments). Too big: the additional section goes first
  (it is optional); still too big: header and question only, with TC, and the client asks
  again over TCP, where up to 64 KiB go.
- TCP follows RFC 7766: two-byte length framing, pipelined queries answered in order, idle
  connections closed after ``tcp_idle_timeout``.
- Bad input never reaches ``answer``: a datagram that does not parse, or is itself a
  response (answering those lets two servers bounce packets forever), is dropped; a TCP
  connection carrying one is closed. A bug in ``answer`` costs one SERVFAIL, not the server.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from .catalog import ServiceCatalog
from .dns_records import ClusterZone

__all__ = ["TCP_MAX", "UDP_MAX", "UDP_PLAIN", "ClusterDns", "encode", "udp_limit"]

logger = logging.getLogger(__name__)

UDP_PLAIN = 512  # RFC 1035: a UDP reply without EDNS
UDP_MAX = 1232  # the most any UDP reply carries, whatever EDNS offers
TCP_MAX = 65535
_UNANSWERED = (dns.rdatatype.AXFR, dns.rdatatype.IXFR, dns.rdatatype.OPT)
_BIND_ATTEMPTS = 20  # port 0: tries at a port free for both UDP and TCP

Address = tuple[str, int]


def udp_limit(query: dns.message.Message) -> int:
    """The size a UDP reply to ``query`` may have."""
    if query.edns < 0:
        return UDP_PLAIN
    return max(UDP_PLAIN, min(query.payload, UDP_MAX))


def encode(response: dns.message.Message, max_size: int) -> bytes:
    """``response`` on the wire in at most ``max_size`` bytes, cut down (and TC) if need be."""
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        response.additional = []
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        response.answer = []
        response.authority = []
        response.flags |= dns.flags.TC
    return response.to_wire(max_size=max_size)


class ClusterDns:
    """The cluster's DNS server: answers from ``catalog``'s Services, on UDP and TCP.

    ``reverse_networks`` (the Service and pod CIDRs) are where unknown addresses get NXDOMAIN
    rather than REFUSED; see ``dns_records``.
    """

    def __init__(
        self,
        catalog: ServiceCatalog,
        *,
        domain: str = "cluster.local",
        ttl: int = 5,
        reverse_networks: Iterable[str] = (),
        tcp_idle_timeout: float = 10.0,
    ) -> None:
        self.zone = ClusterZone(domain=domain, ttl=ttl, reverse_networks=reverse_networks)
        self.zone.follow(catalog)
        self.tcp_idle_timeout = tcp_idle_timeout

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        """The response to one query (which must not have QR set)."""
        response = dns.message.make_response(query, our_payload=UDP_MAX)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
        elif query.edns > 0:
            response.set_rcode(dns.rcode.BADVERS)
        elif len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
        elif query.question[0].rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
        elif query.question[0].rdtype in _UNANSWERED:
            response.set_rcode(dns.rcode.REFUSED)  # no zone transfers
        else:
            question = query.question[0]
            found = self.zone.lookup(question.name, question.rdtype)
            response.set_rcode(found.rcode)
            if found.authoritative:
                response.flags |= dns.flags.AA
            response.answer = list(found.answer)
            response.authority = list(found.authority)
            response.additional = list(found.additional)
        return response

    def reply(self, wire: bytes, *, tcp: bool) -> bytes | None:
        """The reply to one message off the wire, or None when it gets none (see above)."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # whatever the bytes, the server goes on
            logger.debug("dns: dropped a malformed message of %d bytes", len(wire))
            return None
        if query.flags & dns.flags.QR:
            return None
        limit = TCP_MAX if tcp else udp_limit(query)
        try:
            return encode(self.answer(query), limit)
        except Exception:
            logger.exception("dns: failed to answer %s", query.question)
        try:
            failed = dns.message.make_response(query)
            failed.set_rcode(dns.rcode.SERVFAIL)
            return encode(failed, limit)
        except Exception:  # not even that: the client times out
            return None

    @asynccontextmanager
    async def listening(self, addresses: Sequence[Address]) -> AsyncIterator[list[Address]]:
        """Listen on UDP and TCP at each (host, port) — port 0: one free for both — and
        yield the addresses bound; close every socket and connection on the way out."""
        listeners = _Listeners(self)
        try:
            bound = [await listeners.open(host, port) for host, port in addresses]
            logger.info("dns: answering for %s on %s", self.zone.domain, bound)
            yield bound
        finally:
            await listeners.close()

    async def serve(self, addresses: Sequence[Address]) -> None:
        """Answer on UDP and TCP at each (host, port) until cancelled."""
        async with self.listening(addresses):
            await asyncio.get_running_loop().create_future()


class _Datagrams(asyncio.DatagramProtocol):
    """One UDP socket: each datagram answered where it came from."""

    def __init__(self, server: ClusterDns) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # not isinstance: Python 3.11's selector loop gives no DatagramTransport subclass
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        reply = self._server.reply(data, tcp=False)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP "port unreachable" from a client that gave up: nothing to do
        logger.debug("dns: UDP error: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class _Stream(asyncio.Protocol):
    """One TCP connection: length-framed queries, answered in order (RFC 7766)."""

    def __init__(self, server: ClusterDns, live: set[_Stream]) -> None:
        self._server = server
        self._live = live
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._idle: asyncio.TimerHandle | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._live.add(self)
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= 2:
            size = int.from_bytes(self._buffer[:2], "big")
            if len(self._buffer) < 2 + size:
                break
            wire = bytes(self._buffer[2 : 2 + size])
            del self._buffer[: 2 + size]
            reply = self._server.reply(wire, tcp=True)
            if reply is None:
                self.close()
                return
            assert self._transport is not None
            self._transport.write(len(reply).to_bytes(2, "big") + reply)
        self._arm()

    def pause_writing(self) -> None:
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        if self._transport is not None:
            self._transport.resume_reading()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._live.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def _arm(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        loop = asyncio.get_running_loop()
        self._idle = loop.call_later(self._server.tcp_idle_timeout, self.close)


class _Listeners:
    """The sockets of one ``listening`` block, and the connections they accepted."""

    def __init__(self, server: ClusterDns) -> None:
        self._server = server
        self._datagrams: list[tuple[asyncio.DatagramTransport, _Datagrams]] = []
        self._servers: list[asyncio.Server] = []
        self._streams: set[_Stream] = set()

    async def open(self, host: str, port: int) -> Address:
        """Bind UDP, then TCP on the same port; with port 0, retry until one suits both."""
        for _ in range(_BIND_ATTEMPTS if port == 0 else 1):
            bound = await self._open_udp(host, port)
            try:
                self._servers.append(
                    await asyncio.get_running_loop().create_server(
                        lambda: _Stream(self._server, self._streams), host, bound
                    )
                )
                return host, bound
            except OSError as error:
                transport, protocol = self._datagrams.pop()
                transport.close()
                await protocol.closed
                if port != 0 or error.errno != errno.EADDRINUSE:
                    raise
        raise OSError(errno.EADDRINUSE, f"no port on {host} was free for both UDP and TCP")

    async def _open_udp(self, host: str, port: int) -> int:
        transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Datagrams(self._server), local_addr=(host, port)
        )
        self._datagrams.append((transport, protocol))
        return int(transport.get_extra_info("sockname")[1])

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for transport, _ in self._datagrams:
            transport.close()
        streams = list(self._streams)
        for stream in streams:
            stream.close()
        await asyncio.gather(
            *(protocol.closed for _, protocol in self._datagrams),
            *(stream.closed for stream in streams),
        )
        for server in self._servers:
            await server.wait_closed()
