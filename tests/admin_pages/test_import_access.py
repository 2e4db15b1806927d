"""Who reaches the import and catalog pages: the archive's own admin and the network admin; an
archive admin of another archive, a clerk, a citizen get 404 on every page, the job pages too."""
from __future__ import annotations

import pytest

from portal.admin import jobs
from tests.admin_pages.importing import OTHER, OWN, latest_job, row, signed_in, table, upload
from tests.factories import PASSWORD
from tests.helpers import csrf_token, login


@pytest.fixture
def setting(client, factory, session):
    own, other = factory.archive(OWN, "河池市金城江区档案馆"), factory.archive(OTHER, "河池市档案馆")
    factory.record(own, reference_code="R-1")
    signed_in(client, factory, archive=own)
    assert upload(client, OWN, table([row(reference_code="R-2")])).status_code == 303
    jobs.run_pending(session)
    return own, other, latest_job(session)


def pages(job_id: int) -> list[tuple[str, str]]:
    base = f"/admin/{OWN}"
    return [("GET", f"{base}/import"), ("POST", f"{base}/import"), ("GET", f"{base}/import/{job_id}"),
            ("POST", f"{base}/import/{job_id}/confirm"), ("POST", f"{base}/import/{job_id}/cancel"),
            ("GET", f"{base}/import/{job_id}/refused.csv"), ("GET", f"{base}/records"),
            ("GET", f"{base}/records/R-1"), ("POST", f"{base}/records/R-1")]


@pytest.mark.parametrize("role", ["other_admin", "clerk", "reviewer", "citizen"])
def test_no_one_but_the_archives_admins_finds_its_import_and_catalog_pages(app, factory, setting, role):
    own, other, job = setting
    client = app.test_client()
    archive = other if role == "other_admin" else own
    user = factory.user("archive_admin" if role == "other_admin" else role,
                        archive=None if role == "citizen" else archive, email=f"{role}@example.cn")
    login(client, user.email, PASSWORD)
    token = csrf_token(client, "/")
    for method, url in pages(job.id):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 404, (role, method, url)


def test_another_archives_job_is_404_even_on_ones_own_archives_url(app, factory, setting):
    own, other, job = setting
    client = app.test_client()
    signed_in(client, factory, archive=other)
    for url in (f"/admin/{OTHER}/import/{job.id}", f"/admin/{OTHER}/import/{job.id}/refused.csv",
                f"/admin/{OTHER}/records/R-1"):
        assert client.get(url).status_code == 404, url


def test_the_network_admin_may_import_for_any_archive_on_its_page(app, factory, setting):
    own, other, job = setting
    client = app.test_client()
    signed_in(client, factory, role="admin")
    for method, url in pages(job.id):
        if method == "GET" and not url.endswith(".csv"):  # (the file refused no row: nothing to download)
            assert client.get(url).status_code == 200, url
    assert upload(client, OTHER, table([row(archive_code=OTHER, reference_code="B-1")])).status_code == 303


def test_anonymous_visitors_are_sent_to_log_in(app, setting):
    client = app.test_client()
    own, other, job = setting
    for method, url in pages(job.id):
        if method == "GET":
            assert client.get(url).status_code == 302, url
