import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ecomops_common import healthcheck

# Lines as the kernel writes them: 127.0.0.1:8001 and 0.0.0.0:8090 listening, one established connection, and
# IPv6 ::: 8005 plus an IPv4-mapped ::ffff:10.1.2.3:8002 listening.
TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 1 1 0000000000000000
   1: 00000000:1F9A 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 2 1 0000000000000000
   2: 0100007F:1F41 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000 10001        0 3 1 0000000000000000
"""
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000000000000:1F45 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: 0000000000000000FFFF00000302010A:1F42 00000000000000000000000000000000:0000 0A 00000000:00000000
"""


def test_listening_sockets_are_read_from_proc_and_wildcards_reached_on_loopback(tmp_path):
    (tmp_path / "tcp").write_text(TCP)
    (tmp_path / "tcp6").write_text(TCP6)
    assert healthcheck.listening((tmp_path / "tcp", tmp_path / "tcp6", tmp_path / "absent")) == [
        ("10.1.2.3", 8002), ("127.0.0.1", 8001), ("127.0.0.1", 8090), ("::1", 8005)]


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="Linux only")
def test_a_socket_listening_here_is_found():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert ("127.0.0.1", sock.getsockname()[1]) in healthcheck.listening()


@pytest.fixture
def serve():
    """Starts an HTTP server answering GET /healthz with the given status; yields its port."""
    servers = []

    def start(status: int) -> int:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status if self.path == "/healthz" else 404)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_port_answering_200_is_healthy(serve):
    assert healthcheck.main(["--port", str(serve(200))]) == 0


def test_a_port_answering_503_or_nothing_is_unhealthy_and_says_why(serve, capsys):
    port = serve(503)
    assert healthcheck.main(["--port", str(port)]) == 1
    assert capsys.readouterr().err == f"http://127.0.0.1:{port}/healthz: HTTP 503\n"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert healthcheck.main(["--port", str(closed)]) == 1
    assert "Connection refused" in capsys.readouterr().err


def test_without_a_port_every_listening_socket_must_be_healthy(serve, monkeypatch, capsys):
    healthy, failing = serve(200), serve(500)
    monkeypatch.setattr(healthcheck, "listening", lambda: [("127.0.0.1", healthy)])
    assert healthcheck.main([]) == 0
    monkeypatch.setattr(healthcheck, "listening", lambda: [("127.0.0.1", healthy), ("127.0.0.1", failing)])
    assert healthcheck.main([]) == 1
    assert capsys.readouterr().err == f"http://127.0.0.1:{failing}/healthz: HTTP 500\n"
    monkeypatch.setattr(healthcheck, "listening", lambda: [])
    assert healthcheck.main([]) == 1
    assert "nothing listens" in capsys.readouterr().err
