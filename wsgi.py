"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from portal import create_app
from portal.catalog.indexing import SyncWorker

app = create_app()
# Each serving process retries changes queued while the search engine was down.
SyncWorker(app, app.config["SEARCH_SYNC_INTERVAL"]).start()
