"""Connections to Meilisearch: one client per thread, each on a kept-alive requests.Session.

meilisearch-python sends each call with requests.get/post/..., a new connection every time, and
neither its client nor requests.Session is thread-safe (the client edits its headers per call),
while one MeiliIndex is shared by a server's threads.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

import meilisearch
import requests
from meilisearch._httprequests import HttpRequests


class _PooledHttp(HttpRequests):
    """The client's HTTP layer on a requests.Session, whose connections stay open between calls."""

    def __init__(self, config: Any, session: requests.Session) -> None:
        super().__init__(config)
        self.session = session

    def send_request(self, http_method: Callable, *args: Any, **kwargs: Any) -> Any:
        # The client hands over requests.get, requests.post...: the session's method of that name.
        return super().send_request(getattr(self.session, http_method.__name__), *args, **kwargs)


def _pooled(obj: Any, session: requests.Session) -> Any:
    """Point a client or Index object, and its task handler, at ``session``.  Should a later
    client version rename these attributes, calls still work, one connection each."""
    for target in (obj, getattr(obj, "task_handler", None)):
        if target is not None and isinstance(getattr(target, "http", None), HttpRequests):
            target.http = _PooledHttp(target.config, session)
    return obj


class ThreadClients:
    """This thread's client and session, created on first use (and again after a fork)."""

    def __init__(self, url: str, api_key: str | None, timeout: float) -> None:
        self.url, self.api_key, self.timeout = url, api_key, timeout
        self._local = threading.local()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._lock = threading.Lock()

    @property
    def client(self) -> meilisearch.Client:
        client = getattr(self._local, "client", None)
        # A forked process (a server's workers) opens its own connections, never its parent's.
        if client is None or self._local.pid != os.getpid():
            session = requests.Session()
            # Uncompressed answers: Meilisearch sends a compressed one in small pieces, and on a
            # kept-alive connection each answer then waits ~40 ms for a delayed TCP ACK.
            session.headers["Accept-Encoding"] = "identity"
            client = _pooled(meilisearch.Client(self.url, self.api_key, timeout=self.timeout), session)
            self._local.client, self._local.session, self._local.pid = client, session, os.getpid()
            with self._lock:
                self._sessions.add(session)
        return client

    @property
    def session(self) -> requests.Session:
        self.client  # noqa: B018 - creates both
        return self._local.session

    def index(self, uid: str) -> Any:
        """An Index object of this thread's client, on its connection."""
        return _pooled(self.client.index(uid), self.session)

    def close(self) -> None:
        """Close every thread's connections (a later call opens new ones)."""
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.close()
