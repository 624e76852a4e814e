import logging

from flask_mcp.store.signals import operation_finished
from flask_mcp.store.signals import outage_ended
from flask_mcp.store.signals import outage_started

log = logging.getLogger("myapp.store")
SLOW = 0.05  # seconds


@operation_finished.connect
def report_slow(sender, op, kind, outcome, seconds, **extra):
    if seconds > SLOW or outcome != "ok":
        log.info("store %s: %s in %.1f ms", op, outcome, seconds * 1000)


@outage_started.connect
def page_someone(sender, backend, error, unreachable, **extra):
    log.error("store %s down: %s", backend, error)


@outage_ended.connect
def all_clear(sender, backend, seconds, **extra):
    log.error("store %s back after %.0f s", backend, seconds)
