"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from portal import create_app
from portal.workers import start_in_each_process

app = create_app()
# Each serving process retries index changes and mail that could not be done at once.
start_in_each_process(app)
