"""Write (or check) the services' OpenAPI documents the console's typed client is built from.

``python scripts/openapi_specs.py write`` renders every service's ``app.openapi()`` into
``services/console/web/openapi/<service>.json``; ``check`` fails when a committed document
differs from what the code describes now, so the web client never drifts from the APIs.
The apps are built without starting them: ``create_app`` opens no I/O.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

SERVICES = ("ingest", "responder", "publisher", "analytics", "console")
SPEC_DIR = Path(__file__).resolve().parents[1] / "services" / "console" / "web" / "openapi"


def render(service: str) -> str:
    """One service's OpenAPI document as stable, indented JSON."""
    main = importlib.import_module(f"smm_{service}.main")
    settings_module = importlib.import_module(f"smm_{service}.settings")
    settings_cls = getattr(settings_module, f"{service.capitalize()}Settings")
    # The document does not depend on the keys; the settings only insist that some exist.
    app = main.create_app(settings_cls(auth={"jwks_file": str(SPEC_DIR / "unused-jwks.json")}))
    spec: dict[str, Any] = app.openapi()
    return json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """``write`` or ``check``; the exit code says whether the documents are current."""
    mode = argv[1] if len(argv) > 1 else "check"
    if mode not in ("write", "check"):
        print("usage: openapi_specs.py write|check", file=sys.stderr)
        return 2
    SPEC_DIR.mkdir(parents=True, exist_ok=True)
    stale = []
    for service in SERVICES:
        path = SPEC_DIR / f"{service}.json"
        text = render(service)
        if mode == "write":
            path.write_text(text, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path))
    if stale:
        print(
            "OpenAPI documents out of date (run `make openapi`): " + ", ".join(stale),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
