"""Upstream identity providers against recorded responses and a real issuer."""
