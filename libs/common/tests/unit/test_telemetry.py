import json
import logging
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.sdk.trace import TracerProvider

from ecomops_common import telemetry


def test_json_logs_carry_correlation_and_trace_ids():
    tracer = TracerProvider().get_tracer("test")
    record = logging.LogRecord("order", logging.INFO, __file__, 1, "order %s placed", ("o1",), None)
    record.order_id = "o1"
    token = telemetry.correlation_id.set("web-eu:100234")
    try:
        with tracer.start_as_current_span("work") as span:
            line = json.loads(telemetry.JsonFormatter().format(record))
    finally:
        telemetry.correlation_id.reset(token)
    assert line["msg"] == "order o1 placed" and line["level"] == "INFO" and line["order_id"] == "o1"
    assert line["correlation_id"] == "web-eu:100234"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_traceparent_round_trips_through_a_header():
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("producer") as span:
        traceparent = telemetry.current_traceparent()
    context = telemetry.context_from_traceparent(traceparent)
    with tracer.start_as_current_span("consumer", context=context) as child:
        assert child.get_span_context().trace_id == span.get_span_context().trace_id


def test_spans_are_exported_over_otlp_when_an_endpoint_is_configured():
    received: list[str] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    script = (
        "from ecomops_common import telemetry\n"
        f"provider = telemetry.setup_tracing('order', {endpoint!r})\n"
        "with telemetry.tracer.start_as_current_span('placed'): pass\n"
        "provider.force_flush()\n"
    )
    try:
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    finally:
        server.shutdown()
    assert received == ["/v1/traces"]
