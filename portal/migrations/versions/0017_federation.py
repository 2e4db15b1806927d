"""federation between nodes: peers, seen nonces, the message outbox and inbox, peer accounts (role
peer, user_account.node) and archives of other nodes (archive.node)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

import portal.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

ROLES = "'citizen', 'clerk', 'reviewer', 'archive_admin', 'admin'"


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node', sa.String(length=20), nullable=True))
        batch_op.drop_constraint(op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint('role', f"role IN ({ROLES}, 'peer')")
    with op.batch_alter_table('archive', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_archive_node'), ['node'], unique=False)
    # A serial names its node: ZM-{NODE}-{archive code}-{year}-{6 digits}.
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('serial', existing_type=sa.String(length=40), type_=sa.String(length=64))
    op.create_table(
        'peer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('url', sa.String(length=300), nullable=False),
        sa.Column('public_key', sa.String(length=64), nullable=False),
        sa.Column('meili_url', sa.String(length=300), nullable=True),
        sa.Column('meili_key', sa.String(length=200), nullable=True),
        sa.Column('archives', sa.Text(), server_default='[]', nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('added_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('added_by', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['user_account.id'], name=op.f('fk_peer_account_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_peer')),
        sa.UniqueConstraint('name', name=op.f('uq_peer_name')),
    )
    op.create_table(
        'federation_nonce',
        sa.Column('peer', sa.String(length=20), nullable=False),
        sa.Column('nonce', sa.String(length=100), nullable=False),
        sa.Column('seen_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('peer', 'nonce', name=op.f('pk_federation_nonce')),
    )
    op.create_index('ix_federation_nonce_seen_at', 'federation_nonce', ['seen_at'], unique=False)
    op.create_table(
        'federation_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('peer', sa.String(length=20), nullable=False),
        sa.Column('message_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('signature', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('response', sa.Text(), nullable=False),
        sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'received')",
                           name=op.f('ck_federation_message_status')),
        sa.CheckConstraint("direction IN ('out', 'in')", name=op.f('ck_federation_message_direction')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_message')),
        sa.UniqueConstraint('direction', 'peer', 'message_id', name='uq_federation_message_id'),
    )
    op.create_index('ix_federation_message_due', 'federation_message', ['direction', 'status', 'next_attempt_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_federation_message_due', table_name='federation_message')
    op.drop_table('federation_message')
    op.drop_index('ix_federation_nonce_seen_at', table_name='federation_nonce')
    op.drop_table('federation_nonce')
    op.drop_table('peer')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('serial', existing_type=sa.String(length=64), type_=sa.String(length=40))
    with op.batch_alter_table('archive', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_node'))
        batch_op.drop_column('node')
    op.execute("DELETE FROM user_account WHERE role = 'peer'")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint('role', f"role IN ({ROLES})")
        batch_op.drop_column('node')
