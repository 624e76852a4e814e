"""MCP_STORE_FACTORY = "store_factory:tls_backend" """

import redis

from flask_mcp.store.backends import RedisStoreBackend


def tls_backend(config, instance_path):
    """Redis over TLS with a client certificate: options no URL carries."""
    client = redis.Redis(
        host=config["REDIS_HOST"],
        port=6380,
        ssl=True,
        ssl_certfile=config["REDIS_CERT"],
        ssl_keyfile=config["REDIS_KEY"],
        ssl_ca_certs=config["REDIS_CA"],
        socket_timeout=config["MCP_STORE_TIMEOUT"],
        socket_connect_timeout=config["MCP_STORE_TIMEOUT"],
    )
    return RedisStoreBackend(client)


def plain_backend(config, instance_path):
    """The same idea with any client redis-py builds from a URL."""
    client = redis.Redis.from_url(
        config["REDIS_URL"], socket_timeout=config["MCP_STORE_TIMEOUT"]
    )
    return RedisStoreBackend(client)
