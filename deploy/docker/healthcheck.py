"""Container healthcheck: GET a health endpoint of the service in this container.

Used by every service image (Dockerfile ``HEALTHCHECK``) and by docker-compose. The slim
Python base image ships neither curl nor wget, so this uses the standard library only.
Usage: ``python /app/healthcheck.py [/health/ready]``; exits 0 on HTTP 2xx, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    """Probe ``http://127.0.0.1:$SMM_HTTP__PORT<path>`` and report the outcome as the exit code."""
    path = argv[1] if len(argv) > 1 else "/health/ready"
    port = os.environ.get("SMM_HTTP__PORT", "8000")
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            status = response.status
    except urllib.error.HTTPError as exc:  # 503 while Kafka or Mongo is unreachable
        print(f"{url}: HTTP {exc.code}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
