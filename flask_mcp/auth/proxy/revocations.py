"""Cutting off a user or a client everywhere, at once.

The proxy's access tokens are JWTs checked on the worker that receives
them, so revoking them needs state every worker reads. Each token already
costs a look at its grant in the store; revocations add one record,
``revoked``, read beside it (a second look): the subjects and clients cut
off, each with the time of the cut. A grant made before the cut of its subject or
client is dead, whatever its tokens say, from the next request on, on every
host: no token, refresh token or code of it works any more.

The record stays small: a cut is kept as long as a grant can live
(the refresh token lifetime), after which every grant it could end has
ended by itself. Subjects are kept as digests.
"""

from __future__ import annotations

import time
import typing as t

from flask_mcp.store import Store

from ..hashing import digest
from .records import Grant

_KEY = "revoked"


class Revocations:
    """The cuts, in ``store`` (the proxy's records).

    :param keep: seconds a cut is kept: the longest a grant lives.
    """

    def __init__(self, store: Store, keep: float) -> None:
        self.store = store
        self.keep = keep

    def cut_subject(self, subject: str) -> None:
        """End every grant of the user ``subject`` made until now."""
        self._cut("subjects", digest(subject))

    def cut_client(self, client_id: str) -> None:
        """End every grant of the client ``client_id`` made until now."""
        self._cut("clients", digest(client_id))

    def _cut(self, kind: str, name: str) -> None:
        with self.store.lock(_KEY):
            record = self._record()
            now = time.time()
            record[kind][name] = now
            for cuts in record.values():  # forget cuts no grant can predate
                for old in [n for n, at in cuts.items() if at < now - self.keep]:
                    del cuts[old]
            self.store.set(_KEY, record, self.keep)

    def _record(self) -> dict[str, dict[str, float]]:
        record = self.store.get(_KEY)
        out: dict[str, dict[str, float]] = {"subjects": {}, "clients": {}}
        if isinstance(record, dict):
            for kind in out:
                cuts = record.get(kind)
                if isinstance(cuts, dict):
                    out[kind] = {
                        str(k): float(v)
                        for k, v in cuts.items()
                        if isinstance(v, (int, float))
                    }
        return out

    def ends(self, grant: Grant) -> bool:
        """Whether a cut made after ``grant`` began ends it."""
        record = self.store.get(_KEY)
        if not record:
            return False
        return _after(record, "subjects", grant.subject, grant) or _after(
            record, "clients", grant.client_id, grant
        )


def _after(record: t.Any, kind: str, name: str, grant: Grant) -> bool:
    cuts = record.get(kind) if isinstance(record, dict) else None
    if not isinstance(cuts, dict):
        return False
    cut = cuts.get(digest(name))
    # created_at is whole seconds, rounded down: a grant begun in the second
    # of the cut counts as before it.
    return isinstance(cut, (int, float)) and grant.created_at <= cut
