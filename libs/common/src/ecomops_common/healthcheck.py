"""`ecomops-healthcheck`: the image's HEALTHCHECK, whichever service or simulator the container runs.

A container has a network namespace of its own, so its listening TCP sockets are the HTTP port of the one process
it runs, wherever that was configured (ORDER_HTTP_PORT, PAYMENT_SIMULATOR_PORT, a default): every one must answer
GET /healthz with 200. `--port` probes one port on this host instead, where other processes listen too.
"""

import argparse
import ipaddress
import sys
import urllib.error
import urllib.request
from pathlib import Path

LISTEN = "0A"  # the TCP state in /proc/net/tcp{,6}
PROC_NET_TCP = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """/proc/net/tcp writes an address as 32-bit words, each in host (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    return ipaddress.ip_address(b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4)))


def listening(tables: tuple[Path, ...] = PROC_NET_TCP) -> list[tuple[str, int]]:
    """(host to connect to, port) of every listening TCP socket; a wildcard address is reached on loopback."""
    found = set()
    for table in tables:
        if not table.exists():  # no IPv6 in this kernel
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != LISTEN:
                continue
            hex_address, hex_port = fields[1].split(":")
            address = _address(hex_address)
            if address.version == 6 and address.ipv4_mapped:  # an IPv4 socket of a dual-stack listener
                address = address.ipv4_mapped
            if address.is_unspecified:
                address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
            found.add((str(address), int(hex_port, 16)))
    return sorted(found)


def probe(host: str, port: int, timeout_s: float = 3.0) -> str | None:
    """None when http://host:port/healthz answers 200, else what went wrong."""
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return None if response.status == 200 else f"{url}: HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"{url}: HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"{url}: {getattr(error, 'reason', error)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ecomops-healthcheck", description="Exit 0 when the service in this container answers GET /healthz.")
    parser.add_argument("--port", type=int, help="probe 127.0.0.1:PORT only (default: every listening port)")
    args = parser.parse_args(argv)
    targets = [("127.0.0.1", args.port)] if args.port else listening()
    if not targets:
        print("nothing listens on TCP in this container yet", file=sys.stderr)
        return 1
    problems = [problem for host, port in targets if (problem := probe(host, port))]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
