import os
from logging.config import dictConfig

# Before the app is created: audit lines to their own file, one JSON object
# per line, and nowhere else.
dictConfig(
    {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "audit": {
                # Written in batches off the request's thread; the line is
                # the message itself (no formatter needed).
                "class": "flask_mcp.ops.AuditFileHandler",
                "filename": os.environ["AUDIT_LOG"],  # /var/log/mcp/audit.jsonl
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
