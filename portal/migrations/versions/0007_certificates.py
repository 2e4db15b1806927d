"""certificates: the issued, signed PDFs (serial, verification code, SHA-256, revocation), and
each archive's seal image

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('issued_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('revoked_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('found', 'not_found')", name=op.f('ck_certificate_kind')),
    sa.CheckConstraint("status IN ('valid', 'revoked')", name=op.f('ck_certificate_status')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_certificate_issued_by_id_user_account')),
    sa.ForeignKeyConstraint(['request_id'], ['utilization_request.id'], name=op.f('fk_certificate_request_id_utilization_request')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_certificate_revoked_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('request_id', name=op.f('uq_certificate_request_id')),
    sa.UniqueConstraint('serial', name=op.f('uq_certificate_serial'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_sha256'), ['sha256'], unique=False)

    with op.batch_alter_table('archive', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal_png', sa.LargeBinary(), nullable=True))



def downgrade() -> None:
    # Not batch mode: rebuilding `archive` on SQLite would trip the foreign keys pointing at it
    # (SQLite has dropped columns in place since 3.35).
    op.execute(sa.text("ALTER TABLE archive DROP COLUMN seal_png"))

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_sha256'))

    op.drop_table('certificate')
