"""staff roles: base staff by one-time invite

Issue 12: an admin invites someone to be staff of a training base with a one-time code
that expires; her row keeps the base (`users.staff_base_id`, emptied when the base goes
or an admin revokes it). Only a hash of each invite's code is kept.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("used_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["training_bases.id"],
            name=op.f("fk_staff_invites_base_id_training_bases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_invites_code_hash")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_base_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_users_staff_base_id_training_bases"),
            "training_bases",
            ["staff_base_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_users_staff_base_id_training_bases"), type_="foreignkey"
        )
        batch_op.drop_column("staff_base_id")
    op.drop_table("staff_invites")
