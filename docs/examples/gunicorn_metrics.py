# gunicorn.conf.py of a server with MCP_METRICS: every worker writes its
# numbers to METRICS_DIR; empty it when the server starts, so that the
# counts are those of this run.
import os
import shutil

bind = "127.0.0.1:8000"
workers = 4


def on_starting(server):
    folder = os.environ["METRICS_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
