"""audit chain anchor: the head and the checkpoint of pruned records

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("appended", sa.Integer(), nullable=False),
        sa.Column("pruned", sa.Integer(), nullable=False),
        sa.Column("checkpoint_hash", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Anchor the records already stored: the chain started at GENESIS, nothing was pruned yet.
    op.execute(
        sa.text(
            "INSERT INTO audit_anchor "
            "(id, head_hash, appended, pruned, checkpoint_hash, checkpoint_id) "
            "SELECT 1, COALESCE((SELECT hash FROM audit ORDER BY id DESC LIMIT 1), :genesis), "
            "(SELECT COUNT(*) FROM audit), 0, :genesis, 0"
        ).bindparams(genesis=GENESIS)
    )


def downgrade() -> None:
    op.drop_table("audit_anchor")
