"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from portal import create_app
from portal.catalog.indexing import retry_in_each_process

app = create_app()
# Each serving process retries changes queued while the search engine was down.
retry_in_each_process(app)
