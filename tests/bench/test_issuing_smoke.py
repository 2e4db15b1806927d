"""A short run of the issuing benchmark (bench/issuing.py) against a freshly started portal: every
certificate is issued through the pages, the same bytes on every download, serials distinct. No
timing is asserted: speed is measured by `python -m bench.issuing`."""
from __future__ import annotations

import os

import pytest

from bench.certificates import content
from bench.issuing import run
from portal.certificates.pdf import render

# One server of its own: the whole file stays on one xdist worker.
pytestmark = pytest.mark.xdist_group("issuing_smoke")


def test_certificates_issued_at_once_are_the_same_bytes_on_every_download():
    before = dict(os.environ)
    result = run(certificates=4, clients=2, archives=2, warmup=1, records=100)

    assert result.timings.errors == []
    assert result.sound, result.problems
    assert not result.work_dir.exists()
    assert dict(os.environ) == before  # the portal's settings were this run's only


def test_the_certificate_benchmark_content_still_renders():
    assert render(content()).startswith(b"%PDF-")
