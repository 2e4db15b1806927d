"""Add N generated requests to the portal the environment names (PORTAL_DATA_DIR, DATABASE_URL), with
bench/queue.py's generator: `python -m bench.load.add_requests N`. The database must hold the demo
data (`portal seed-demo`). Run in a process of its own by bench/load/prepare.py, so that the
memory a million requests take while generated is given back before the load starts."""
from __future__ import annotations

import sys

from bench.queue import APPLICANTS, add_requests
from portal import create_app
from portal.db import db


def applicants_for(requests: int) -> int:
    """bench/queue.py's 20,000 citizens for 100,000 requests and more; fewer for fewer requests
    (five requests each), so that a small run does not spend its time encrypting ID numbers."""
    return max(100, min(APPLICANTS, requests // 5))


def main(argv: list[str]) -> None:
    requests = int(argv[0])
    app = create_app()
    with app.app_context():
        summary = add_requests(db.session, requests, applicants=applicants_for(requests))
    db.dispose(app)
    print(f"added {summary['utilization_request']:,} requests, {summary['request_event']:,} events, "
          f"{summary['verification_task']:,} tasks, {summary['citizens']:,} citizens in {summary['seconds']:.0f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
