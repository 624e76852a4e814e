# gunicorn.conf.py: gunicorn -c gunicorn.conf.py "production:app"
import multiprocessing

# flask_mcp's gthread worker, its threads and timeouts (see "Workers and
# Held Streams"); set here whatever should differ.
from flask_mcp.gunicorn import *  # noqa: F403

bind = "127.0.0.1:8000"  # the reverse proxy connects here
# One process per core: a held stream costs a thread, not a process.
workers = multiprocessing.cpu_count()
# Let a worker finish the request it holds when it is recycled.
max_requests = 2000
max_requests_jitter = 200
