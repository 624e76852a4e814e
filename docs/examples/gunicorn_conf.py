# gunicorn.conf.py: gunicorn -c gunicorn.conf.py "production:app"
import multiprocessing

bind = "127.0.0.1:8000"  # the reverse proxy connects here
worker_class = "sync"
# A tool that asks the client a question on a 2025 session holds its worker
# until the answer arrives as another POST, which needs a free worker too.
workers = 2 * multiprocessing.cpu_count() + 1
# Longer than MCP_REQUEST_TIMEOUT (25 s) and MCP_LISTEN_HOLD (10 s), so that
# gunicorn never kills a worker that is waiting as designed.
timeout = 60
graceful_timeout = 30
# Let a worker finish the request it holds when it is recycled.
max_requests = 2000
max_requests_jitter = 200
