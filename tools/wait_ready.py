"""Waits until every service's /readyz answers 200 (used by `make up`)."""

import sys
import time

import httpx

deadline = time.monotonic() + 90
for url in sys.argv[1:]:
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{url} not ready after 90 s; see .local/log/")
        time.sleep(0.5)
