"""queue indexes: each tab read in due-date order from an index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('utilization_request', schema=None) as batch_op:
        batch_op.drop_index('ix_utilization_request_issuing_status')
        batch_op.create_index('ix_utilization_request_queue', ['issuing_archive_id', 'status', 'due_date', 'id'],
                              unique=False)
        batch_op.create_index('ix_utilization_request_issuing_due', ['issuing_archive_id', 'due_date', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('utilization_request', schema=None) as batch_op:
        batch_op.drop_index('ix_utilization_request_issuing_due')
        batch_op.drop_index('ix_utilization_request_queue')
        batch_op.create_index('ix_utilization_request_issuing_status', ['issuing_archive_id', 'status'], unique=False)
