"""Entry point for gunicorn: `gunicorn wsgi:app`."""
import gunicorn.http.wsgi

from portal import create_app
from portal.workers import start_in_each_process

gunicorn.http.wsgi.SERVER = "portal"  # the Server header: no version banner (versions help only an attacker)

app = create_app()
# Each serving process retries index changes and mail that could not be done at once.
start_in_each_process(app)
