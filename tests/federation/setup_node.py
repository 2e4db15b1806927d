"""One process that sets a test node up (each `portal` command costs ~2 s of imports):

    python -m tests.federation.setup_node --name alpha --url http://127.0.0.1:5601 \\
        [--archives 450100,450200 --records 300] [--peer NAME URL KEY ...]

migrates its database, names it (`portal node init`), seeds demo data for some archives and
indexes it (`portal seed-demo --archives`, `portal reindex`), and adds peers (`portal peers add`),
with the node's settings from the environment, as the `portal` command would."""
from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name")
    parser.add_argument("--url")
    parser.add_argument("--archives", default="")
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--peer", nargs=3, action="append", default=[], metavar=("NAME", "URL", "KEY"))
    args = parser.parse_args()

    from pathlib import Path

    from portal import create_app
    from portal.db import db
    from portal.federation.node import init_node
    from portal.federation.peers import add_peer
    from portal.migrate import upgrade

    app = create_app()
    with app.app_context():
        if args.name:
            upgrade(db.engine)
            init_node(Path(app.config["SIGNING_KEYS_DIR"]), args.name, args.url)
        if args.archives:
            from portal.catalog.cli import _rebuild_index
            from portal.catalog.demo import seed_demo
            from portal.certificates.signing import init_keys
            from portal.archives.models import Archive
            from sqlalchemy import select

            codes = set(args.archives.split(","))
            seed_demo(db.session, records=args.records, codes=codes)
            _rebuild_index()
            archives = [(a.code, a.name) for a in db.session.scalars(select(Archive).where(Archive.node.is_(None)))]
            init_keys(Path(app.config["SIGNING_KEYS_DIR"]), archives)
        for name, url, key in args.peer:
            add_peer(db.session, name, url, key)


if __name__ == "__main__":
    main()
