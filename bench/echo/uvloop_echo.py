#!/usr/bin/python3
"""TCP echo server on Python asyncio + uvloop: the baseline weir's echo server is measured against.

Kept as fast as asyncio allows, so the comparison is fair: uvloop event loop, a plain
asyncio.Protocol (no streams layer) that writes every received chunk straight back, TCP_NODELAY,
no per-message work and asyncio debug mode off. Prints `listening on 127.0.0.1:<port>` once it
accepts connections and exits with status 0 on SIGINT/SIGTERM.

Needs Debian's python3-uvloop, so run it with /usr/bin/python3 (not the pyenv python3 on PATH).
"""

import argparse
import asyncio
import signal
import socket
import sys

import uvloop


class EchoProtocol(asyncio.Protocol):
    """Echoes every received byte back on the same connection."""

    __slots__ = ("transport", "connections")

    def __init__(self, connections):
        self.transport = None
        self.connections = connections

    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport
        self.connections.add(transport)

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        # Returning a false value closes the transport once pending writes are flushed.
        return False

    def connection_lost(self, exc):
        self.connections.discard(self.transport)
        self.transport = None


async def serve(port):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    connections = set()
    server = await loop.create_server(
        lambda: EchoProtocol(connections),
        host="127.0.0.1",
        port=port,
        backlog=1024,
        reuse_address=True,
    )
    bound_port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{bound_port}", flush=True)

    await stop.wait()
    server.close()
    for transport in list(connections):
        transport.abort()
    await asyncio.sleep(0)  # let connection_lost callbacks run before the loop closes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, required=True, help="TCP port on 127.0.0.1 (0: any free port)"
    )
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("--port must be in 0..65535")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
