"""A small real HTTP server for tests of code that talks to outside systems (webhook
receivers, a hospital's FHIR server, a courier's API). It records every request and answers
with whatever the test's handler function returns; it can also hold requests to simulate a
hung peer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow peer)


Responder = Callable[[Recorded], Reply]


class HttpRecorder:
    def __init__(self, responder: Responder | None = None) -> None:
        self.requests: list[Recorded] = []
        self.responder = responder or (lambda request: Reply())
        self.arrived = threading.Condition()
        self.release = threading.Event()
        self.release.set()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def hold(self) -> None:
        """Requests arriving from now on wait until ``let_go()``."""
        self.release.clear()

    def let_go(self) -> None:
        self.release.set()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Recorded(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with recorder.arrived:
                    recorder.requests.append(request)
                    recorder.arrived.notify_all()
                recorder.release.wait(timeout=60)
                reply = recorder.responder(request)
                if reply.delay:
                    threading.Event().wait(reply.delay)
                if isinstance(reply.body, bytes | str):
                    payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
                    content_type = reply.headers.get("content-type", "text/plain")
                else:
                    payload = json.dumps(reply.body).encode() if reply.body is not None else b""
                    content_type = reply.headers.get("content-type", "application/json")
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(payload)))
                    for key, value in reply.headers.items():
                        if key.lower() != "content-type":
                            self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib name
                pass

        return Handler

    @contextmanager
    def serving(self) -> Iterator[HttpRecorder]:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for the loop's next poll.
        server = self._server
        thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
