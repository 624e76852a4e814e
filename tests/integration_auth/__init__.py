"""Authentication through the real HTTP stack (gunicorn, requests, mcp client)."""
