"""uvicorn's HTTP protocol with ``TCP_NODELAY`` set on every connection.

With several workers, uvicorn binds the listening socket itself and hands it to the worker
processes; that socket reports protocol 0, and asyncio sets ``TCP_NODELAY`` on an accepted
connection only when it reports ``IPPROTO_TCP``. Nagle's algorithm then holds the body of each
answer until the client's delayed acknowledgement: about 40 ms added to every request after the
first on a keep-alive connection, on Linux (uvicorn issue #3149, still open). The protocols here
set the option themselves as each connection is made; one worker is unaffected either way.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HTTP_PROTOCOL", "NoDelayH11Protocol", "no_delay"]


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off for the TCP connection of ``transport`` (other kinds are left)."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)


HTTP_PROTOCOL: type[asyncio.Protocol] = NoDelayH11Protocol

try:  # uvicorn prefers httptools when it is installed (uvicorn[standard]); so do we
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:
    pass
else:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            no_delay(transport)
            super().connection_made(transport)

    HTTP_PROTOCOL = NoDelayHttpToolsProtocol
