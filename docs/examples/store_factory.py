"""MCP_STORE_FACTORY = "store_factory:sentinel_backend" """

import redis
from redis.sentinel import Sentinel

from flask_mcp.store.backends import RedisStoreBackend


def sentinel_backend(config, instance_path):
    """Redis behind Sentinel: the store follows the master when it fails over."""
    hosts = [(host, 26379) for host in config["REDIS_SENTINELS"]]
    sentinel = Sentinel(hosts, socket_timeout=config["MCP_STORE_TIMEOUT"])
    return RedisStoreBackend(sentinel.master_for("mcp"))


def plain_backend(config, instance_path):
    """The same idea without Sentinel: any client redis-py can build."""
    client = redis.Redis.from_url(
        config["REDIS_URL"], socket_timeout=config["MCP_STORE_TIMEOUT"]
    )
    return RedisStoreBackend(client)
