import os
from logging.config import dictConfig

# Before the app is created: audit lines to their own file, one JSON object
# per line, and nowhere else.
dictConfig(
    {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"format": "%(message)s"}},
        "handlers": {
            "audit": {
                "class": "logging.handlers.WatchedFileHandler",
                "filename": os.environ["AUDIT_LOG"],  # /var/log/mcp/audit.jsonl
                "formatter": "line",
            }
        },
        "loggers": {
            "flask_mcp.audit": {
                "handlers": ["audit"],
                "level": "INFO",
                "propagate": False,
            }
        },
    }
)
