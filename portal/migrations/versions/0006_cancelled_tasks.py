"""cancelled verification tasks: a withdrawn or rejected request's open tasks leave the queues

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_ENDED = "SELECT id FROM utilization_request WHERE status IN ('withdrawn', 'rejected')"


def upgrade() -> None:
    with op.batch_alter_table('verification_task', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_verification_task_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('open', 'verified', 'not_found', 'cancelled')")
    op.execute(sa.text("UPDATE verification_task SET status = 'cancelled', claimed_by_id = NULL, claimed_at = NULL, "
                       f"version = version + 1 WHERE status = 'open' AND request_id IN ({_ENDED})"))


def downgrade() -> None:
    op.execute(sa.text("UPDATE verification_task SET status = 'open' WHERE status = 'cancelled'"))
    with op.batch_alter_table('verification_task', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_verification_task_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('open', 'verified', 'not_found')")
