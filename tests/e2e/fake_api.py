"""A fake network API on a real port for black-box tests: routes map to JSON answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from smm_shared.localstack import free_port

#: (method, path, query, headers) -> (status, body, headers)
Route = Callable[[str, str, dict[str, list[str]], dict[str, str]], tuple[int, Any, dict[str, str]]]


class FakeApi:
    """Serves ``route`` for every request and remembers what was asked."""

    def __init__(self, route: Route) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]], dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append((self.command, url.path, query, headers))
                status, body, extra = route(self.command, url.path, query, headers)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's naming

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """Base URL to configure connectors with."""
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
