"""How tests and benchmarks start Debian's Chromium for Playwright (``make browser`` installs it).

Playwright's own browser downloads are not used: the machine's Chromium is. Without the
background-networking flags Chromium keeps dialling Google's hosts out of a closed network.
"""

from __future__ import annotations

import os
from typing import Final

#: The browser binary (``SMM_CHROMIUM`` overrides it).
CHROMIUM: Final = os.environ.get("SMM_CHROMIUM", "/usr/bin/chromium")
#: Flags for a headless Chromium as root in a sandboxed machine with no outside network.
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
