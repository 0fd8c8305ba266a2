"""A TCP proxy in front of Postgres that cuts a connection right after a statement completed: the
server has done the work (committed, in autocommit mode or on COMMIT), the client never learns it.

    async with ConnectionCutter(pg_port) as cutter:
        url = cutter.dsn(database)     # the service connects through it
        cutter.arm(b"COMMIT")          # the next completion of a query naming COMMIT is cut

It reads Postgres' wire protocol just enough to tell messages apart: after the client's untyped
startup message every message is a type byte and a length. SSL and GSS encryption are turned off
in `dsn()`, so nothing else crosses before startup.
"""

import asyncio
import contextlib
import struct
from types import TracebackType

_COMMAND_COMPLETE = b"C"
_QUERY_MESSAGES = frozenset({b"Q", b"P"})  # a simple query, or Parse of an extended one


class _Messages:
    """Splits a byte stream into (type, body) messages; `typed=False` skips one untyped first."""

    def __init__(self, *, typed: bool) -> None:
        self._buffer = b""
        self._typed = typed

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self._buffer += data
        messages: list[tuple[bytes, bytes]] = []
        while True:
            if not self._typed:
                if len(self._buffer) < 4:
                    return messages
                (length,) = struct.unpack("!i", self._buffer[:4])
                if len(self._buffer) < length:
                    return messages
                self._buffer, self._typed = self._buffer[length:], True
                continue
            if len(self._buffer) < 5:
                return messages
            (length,) = struct.unpack("!i", self._buffer[1:5])
            if len(self._buffer) < 1 + length:
                return messages
            messages.append((self._buffer[:1], self._buffer[5 : 1 + length]))
            self._buffer = self._buffer[1 + length :]


class ConnectionCutter:
    def __init__(self, server_port: int) -> None:
        self._server_port = server_port
        self._server: asyncio.Server | None = None
        self._armed: bytes | None = None
        self.cuts = 0
        """Connections cut so far."""

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def dsn(self, database: str) -> str:
        return (
            f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
            "?sslmode=disable&gssencmode=disable"
        )

    def arm(self, query_part: bytes) -> None:
        """Cut the connection that next completes a query whose text holds `query_part`, before
        the completion reaches the client; once."""
        self._armed = query_part

    async def __aenter__(self) -> "ConnectionCutter":
        self._server = await asyncio.start_server(self._proxy, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _proxy(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self._server_port)
        watching = asyncio.Event()  # this connection sent the armed query
        try:
            await asyncio.gather(
                self._upstream(client_r, server_w, watching),
                self._downstream(server_r, client_w, watching),
            )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (client_w, server_w):
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

    async def _upstream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, watching: asyncio.Event
    ) -> None:
        messages = _Messages(typed=False)
        while data := await reader.read(65536):
            for kind, body in messages.feed(data):
                if self._armed is not None and kind in _QUERY_MESSAGES and self._armed in body:
                    self._armed = None
                    watching.set()
            writer.write(data)
            await writer.drain()
        writer.close()

    async def _downstream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, watching: asyncio.Event
    ) -> None:
        messages = _Messages(typed=True)
        while data := await reader.read(65536):
            for kind, _ in messages.feed(data):
                if kind == _COMMAND_COMPLETE and watching.is_set():
                    self.cuts += 1
                    raise ConnectionResetError("cut after the armed statement completed")
            writer.write(data)
            await writer.drain()
        writer.close()
