"""Prometheus metrics every service exposes on /metrics (one process serves one service)."""

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HANDLER_SECONDS = Histogram(
    "ecomops_handler_duration_seconds", "Time to handle one consumed batch, commit included",
    ["consumer"], buckets=_LATENCY_BUCKETS,
)
MESSAGES_HANDLED = Counter("ecomops_messages_handled_total", "Consumed messages handled", ["consumer"])
CONSUMER_LAG = Gauge(
    "ecomops_consumer_lag_messages",
    "High watermark minus next offset to process, when the consumer last handled a batch (a stalled one stops)",
    ["consumer", "topic", "partition"],
)
CONSUMER_GROUP_LAG = Gauge(
    "ecomops_consumer_group_lag", "End offset minus the group's committed offset, asked of the broker (lag.py)",
    ["group", "topic", "partition"],
)
DUPLICATES_SKIPPED = Counter(
    "ecomops_duplicates_skipped_total", "Events skipped because the inbox had them", ["consumer"]
)
DEAD_LETTERS = Counter("ecomops_dead_letters_total", "Messages sent to a dead-letter topic", ["topic", "reason"])
OUTBOX_BACKLOG = Gauge("ecomops_outbox_backlog", "Outbox rows not yet published")
OUTBOX_OLDEST_AGE = Gauge("ecomops_outbox_oldest_unpublished_age_seconds", "Age of the oldest unpublished row")
OUTBOX_PARKED = Gauge("ecomops_outbox_parked", "Outbox rows parked because they can never be sent as they are")
OUTBOX_PUBLISHED = Counter("ecomops_outbox_published_total", "Outbox rows published to Kafka")
OUTBOX_PUBLISH_ERRORS = Counter("ecomops_outbox_publish_errors_total", "Failed relay batches (retried)")
OUTBOX_PURGED = Counter("ecomops_outbox_purged_total",
                        "Outbox rows an earlier version marked published, purged after retention")
# Round trips and transactions: what an order costs the database (make bench-pipeline divides them per order).
DB_STATEMENTS = Counter("ecomops_db_statements_total", "SQL statements sent (an executemany counts once)")
DB_TRANSACTIONS = Counter("ecomops_db_transactions_total", "Database transactions ended", ["outcome"])
HTTP_SECONDS = Histogram(
    "ecomops_http_request_duration_seconds", "HTTP request latency", ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
RECONCILIATION_DRIFT = Gauge(
    "ecomops_reconciliation_drift", "Places where a reconciliation check found drift at its last periodic run",
    ["check"],
)
