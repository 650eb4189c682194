"""The container health check: `python -m bot.ops.probe` exits 0 when /healthz answers 200.

Kept free of the bot's imports so it is quick. With no STUDYBOT_HEALTH_PORT there is nothing to ask,
so it reports healthy rather than restarting a bot that was configured without the endpoint."""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("STUDYBOT_HEALTH_PORT", "").strip()
    if not port:
        return 0
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return 0 if response.status == 200 else 1
    except Exception as exc:
        print(f"health check failed: {type(exc).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
