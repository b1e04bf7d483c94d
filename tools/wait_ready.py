"""Waits until a service's /readyz answers 200 (used by `make up`)."""

import sys
import time

import httpx

url, deadline = sys.argv[1], time.monotonic() + 90
while time.monotonic() < deadline:
    try:
        if httpx.get(url, timeout=2).status_code == 200:
            sys.exit(0)
    except httpx.HTTPError:
        pass
    time.sleep(0.5)
sys.exit(f"{url} not ready after 90 s; see .local/log/")
