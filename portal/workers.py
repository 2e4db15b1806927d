"""Background work of every serving process: search-index sync, mail sending and messages to peer
nodes, each retrying what could not be done at the moment of the change, purging old drafts, and the administration
pages' jobs (catalog imports, OCR: portal.admin.jobs) (the worker itself:
portal.core.background)."""
from __future__ import annotations

from flask import Flask

from portal.admin.jobs import start_job_worker_in_each_process
from portal.catalog.indexing import retry_in_each_process
from portal.federation.messages_worker import start_federation_worker_in_each_process
from portal.mail.worker import start_mail_worker_in_each_process
from portal.requests.drafts import purge_in_each_process


def start_in_each_process(app: Flask) -> None:
    retry_in_each_process(app)
    start_mail_worker_in_each_process(app)
    purge_in_each_process(app)
    start_job_worker_in_each_process(app)
    start_federation_worker_in_each_process(app)
