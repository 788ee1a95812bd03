"""Serve the fake networks on a local port from a background thread (tests, ``smm dev``)."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

from smm_shared.localstack import StartupError, free_port
from smm_shared.simulator.networks import FakeNetworks, create_app


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:
        # The thread's owner keeps its own signal handlers (uvicorn would replace them).
        return


class FakeNetworkServer:
    """The fake networks on ``127.0.0.1:port`` in a daemon thread; a context manager."""

    def __init__(self, networks: FakeNetworks | None = None, *, port: int | None = None) -> None:
        self.networks = networks or FakeNetworks()
        self.port = port or free_port()
        config = uvicorn.Config(
            create_app(self.networks),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="fake-networks")

    @property
    def url(self) -> str:
        """The base URL; a network's API is at ``{url}/{prefix}``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> FakeNetworkServer:
        """Start serving and wait until the port accepts requests."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise StartupError(
                    f"the fake networks did not start on port {self.port} (in use? choose "
                    "another with SMM_NETWORKS_PORT)"
                )
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeNetworkServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
