"""re-issued certificates: a request may hold several (a revoked one stays on record beside the new one)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_certificate_request_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_certificate_request_id'), ['request_id'], unique=False)
    # One valid certificate per request at most, whatever two reviewers do at the same moment.
    op.create_index('uq_certificate_one_valid', 'certificate', ['request_id'], unique=True,
                    sqlite_where=sa.text("status = 'valid'"), postgresql_where=sa.text("status = 'valid'"))


def downgrade() -> None:
    op.drop_index('uq_certificate_one_valid', table_name='certificate')
    # Refused by the database while a request holds a revoked certificate and its replacement.
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_request_id'))
        batch_op.create_unique_constraint(op.f('uq_certificate_request_id'), ['request_id'])
