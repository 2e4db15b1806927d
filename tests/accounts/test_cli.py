"""`portal create-user`: the same checks as the web forms, Chinese messages, exit 2 on bad input."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import User
from tests.factories import PASSWORD, make_id_number


def _create(app, *args):
    return app.test_cli_runner().invoke(args=["create-user", "--password", PASSWORD, "--name", "王五", *args])


def _user_count(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def test_citizen_without_id_number_fails_with_a_chinese_message(app, session):
    result = _create(app, "--role", "citizen", "--email", "wang@example.cn")
    assert result.exit_code == 2
    assert "id_number: 请填写身份证号码" in result.stderr
    assert _user_count(session) == 0


def test_citizen_with_a_bad_id_number_fails(app, session):
    number = make_id_number()
    bad = number[:17] + ("1" if number[17] == "0" else "0")
    result = _create(app, "--role", "citizen", "--email", "wang@example.cn", "--id-number", bad)
    assert result.exit_code == 2
    assert "校验位不正确" in result.stderr


def test_clerk_without_archive_fails(app, session):
    result = _create(app, "--role", "clerk", "--email", "clerk@example.cn")
    assert result.exit_code == 2
    assert "archive: 工作人员必须属于一个档案馆" in result.stderr
    assert _user_count(session) == 0


def test_reviewer_with_unknown_archive_fails(app, session):
    result = _create(app, "--role", "reviewer", "--email", "rev@example.cn", "--archive", "999999")
    assert result.exit_code == 2
    assert "档案馆代码不存在：999999" in result.stderr


def test_weak_password_is_refused_on_the_command_line_too(app, session, factory):
    archive = factory.archive()
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--role", "clerk", "--email", "clerk@example.cn", "--password", "12345678",
        "--name", "王五", "--archive", archive.code])
    assert result.exit_code == 2
    assert "password:" in result.stderr


def test_citizen_is_created_and_the_email_printed(app, session):
    result = _create(app, "--role", "citizen", "--email", " Wang@Example.CN ", "--id-number", make_id_number())
    assert result.exit_code == 0, result.output
    assert "wang@example.cn" in result.stdout
    user = session.scalars(select(User)).one()
    assert (user.role, user.email, user.real_name) == ("citizen", "wang@example.cn", "王五")


def test_clerk_is_created_in_their_archive(app, session, factory):
    archive = factory.archive()
    result = _create(app, "--role", "clerk", "--email", "clerk@example.cn", "--archive", archive.code)
    assert result.exit_code == 0, result.output
    assert "clerk@example.cn" in result.stdout
    session.expire_all()
    user = session.scalars(select(User)).one()
    assert (user.role, user.archive_id, user.id_number_hash) == ("clerk", archive.id, None)


def test_archive_task_days_sets_the_verification_deadline(app, session, factory):
    archive = factory.archive()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["archive-task-days", archive.code, "6"])
    assert result.exit_code == 0, result.output
    assert "协办任务时限 6 个工作日" in result.output
    session.refresh(archive)
    assert archive.task_due_working_days == 6
    assert runner.invoke(args=["archive-task-days", archive.code, "0"]).exit_code == 2
    missing = runner.invoke(args=["archive-task-days", "999999", "5"])
    assert missing.exit_code == 2 and "档案馆代码不存在：999999" in missing.output
