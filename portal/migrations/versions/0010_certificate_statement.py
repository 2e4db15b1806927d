"""whether a holding archive's note is printed on the certificate (verification_task.print_note):
the certificate states the verified facts, and the clerk's note only when they ask for it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import portal.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite and PostgreSQL alike). Tasks answered before: their notes were
    # written for staff, not for print; the certificates issued from now on state the facts.
    op.add_column('verification_task', sa.Column('print_note', sa.Boolean(), server_default=sa.false(),
                                                 nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('verification_task', schema=None) as batch_op:
        batch_op.drop_column('print_note')
