"""archive admins (role archive_admin), the administration pages' background jobs, and the channel a request came by

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

import portal.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _audit_role_length(length: int) -> None:
    """audit_log.actor_role holds "archive_admin" too. SQLite rebuilds the table to change a column,
    and its append-only triggers (0002) go with the old table: they are made again."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('audit_log', 'actor_role', type_=sa.String(length=length))
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('actor_role', type_=sa.String(length=length))
    for event in ("UPDATE", "DELETE"):
        op.execute(f"""CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log
                       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""")


def upgrade() -> None:
    _audit_role_length(20)
    op.add_column('utilization_request', sa.Column('channel', sa.String(length=10), server_default='web', nullable=False))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=sa.String(length=10), type_=sa.String(length=20))
        batch_op.drop_constraint(op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint('role', "role IN ('citizen', 'clerk', 'reviewer', 'archive_admin', 'admin')")
        batch_op.drop_constraint(op.f('ck_user_account_staff_archive'), type_='check')
        batch_op.create_check_constraint(
            'staff_archive', "role NOT IN ('clerk', 'reviewer', 'archive_admin') OR archive_id IS NOT NULL")
    op.create_table(
        'admin_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('archive_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('file_path', sa.String(length=500), nullable=False),
        sa.Column('file_name', sa.String(length=200), nullable=False),
        sa.Column('params_json', sa.Text(), nullable=False),
        sa.Column('result_json', sa.Text(), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.Column('runner', sa.String(length=80), nullable=False),
        sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'queued', 'running', 'done', 'failed', 'cancelled')",
                           name=op.f('ck_admin_job_status')),
        sa.ForeignKeyConstraint(['archive_id'], ['archive.id'], name=op.f('fk_admin_job_archive_id_archive')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_admin_job_created_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_job')),
    )
    op.create_index(op.f('ix_admin_job_archive_id'), 'admin_job', ['archive_id'], unique=False)
    op.create_index('ix_admin_job_waiting', 'admin_job', ['status', 'id'], unique=False)


def downgrade() -> None:
    _audit_role_length(10)
    with op.batch_alter_table('utilization_request', schema=None) as batch_op:
        batch_op.drop_column('channel')
    op.drop_index('ix_admin_job_waiting', table_name='admin_job')
    op.drop_index(op.f('ix_admin_job_archive_id'), table_name='admin_job')
    op.drop_table('admin_job')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_staff_archive'), type_='check')
        batch_op.create_check_constraint('staff_archive', "role NOT IN ('clerk', 'reviewer') OR archive_id IS NOT NULL")
        batch_op.drop_constraint(op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint('role', "role IN ('citizen', 'clerk', 'reviewer', 'admin')")
        batch_op.alter_column('role', existing_type=sa.String(length=20), type_=sa.String(length=10))
