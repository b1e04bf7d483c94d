"""Waits until every service is fully ready (used by `make up`): /readyz answers 200 with nothing degraded,
i.e. topics created and consumers joined, not only the HTTP API serving. Other URLs: a 200 is enough."""

import sys
import time

import httpx


def ready(url: str) -> bool:
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and not (url.endswith("/readyz") and response.json()["degraded"])


deadline = time.monotonic() + 90
for url in sys.argv[1:]:
    while not ready(url):
        if time.monotonic() > deadline:
            sys.exit(f"{url} not ready after 90 s; see .local/log/")
        time.sleep(0.5)
