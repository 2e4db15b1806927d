"""One endpoint at a time, for the issue's throughput ratios (bench/load/focus.py runs it): every
user asks the endpoint named by PORTAL_LOAD_FOCUS, and nothing else, as fast as it is answered.

- healthz: `/healthz`, the framework's ceiling (one database round trip, a small JSON answer);
- search: `/search` over the query mix (bench/load/queries.txt), as a browser asks for the page;
- api: `/api/v1/search` over the same mix;
- record: record pages, taken from the API's hits for the mix before the run starts.
"""
from __future__ import annotations

import os
import random
from urllib.parse import urlsplit

import requests
from locust import HttpUser, constant, events, task

from bench.load.locustfile import QUERIES

FOCUS = os.environ.get("PORTAL_LOAD_FOCUS", "healthz")
RECORDS: list[str] = []


@events.test_start.add_listener
def _find_record_pages(environment, **_kwargs) -> None:
    """Record pages of the mix's hits, gathered once before the users start (not measured)."""
    if FOCUS != "record":
        return
    for params in QUERIES:
        answer = requests.get(f"{environment.host}/api/v1/search", params=params, timeout=30)
        if answer.status_code == 200:
            RECORDS.extend(urlsplit(hit["url"]).path for hit in answer.json()["hits"][:5])
    if not RECORDS:
        raise RuntimeError("the query mix found no record to open")


class Focused(HttpUser):
    wait_time = constant(0)

    def _get(self, url: str, name: str, **kwargs) -> None:
        with self.client.get(url, name=name, catch_response=True, allow_redirects=False, **kwargs) as answer:
            if answer.status_code == 200:
                answer.success()
            else:
                answer.failure(f"HTTP {answer.status_code}, expected 200")

    @task
    def ask(self) -> None:
        if FOCUS == "healthz":
            self._get("/healthz", "GET /healthz")
        elif FOCUS == "search":
            self._get("/search", "GET /search", params=random.choice(QUERIES))
        elif FOCUS == "api":
            self._get("/api/v1/search", "GET /api/v1/search", params=random.choice(QUERIES))
        elif FOCUS == "record":
            self._get(random.choice(RECORDS), "GET /records/<archive>/<reference>")
        else:
            raise RuntimeError(f"unknown PORTAL_LOAD_FOCUS {FOCUS!r}")
