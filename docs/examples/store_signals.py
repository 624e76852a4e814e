import logging

from flask_mcp.signals import store_called
from flask_mcp.signals import store_recovered
from flask_mcp.signals import store_unavailable

log = logging.getLogger("myapp.store")
SLOW = 0.05  # seconds


@store_called.connect
def report_slow(sender, kind, seconds, failed):
    if seconds > SLOW or failed:
        outcome = "failed" if failed else "ok"
        log.info("store %s: %s in %.1f ms", kind, outcome, seconds * 1000)


@store_unavailable.connect
def page_someone(sender, kind, error):
    log.error("store %s down: %s", sender.name, error)


@store_recovered.connect
def all_clear(sender, kind, seconds):
    log.error("store %s back after %.0f s", sender.name, seconds)
