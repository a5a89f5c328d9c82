"""trust: handled updates keyed by person, signed requests seen once, refused presses

A handled update is one message of one person: WeChat's MsgId is unique only within an
account and two followers' ids collide, so the person joins the primary key (the table
holds a day of short-lived records: it is recreated, not copied). Stored replies become
nullable so they can be cleared once platforms stop retrying. `signed_requests` keeps
each WeChat (timestamp, nonce) pair for the freshness window, so a captured request
cannot be replayed. `users.refused_presses` counts presses of button data that was not
issued to the person on her current screen. `outbox.claim` holds the token of the
notifier sending a message, so two notifiers never send the same one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("processed_events")
    op.create_table(
        "processed_events",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_key", sa.String(length=80), nullable=False),
        sa.Column("update_id", sa.String(length=64), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "platform", "user_key", "update_id", name=op.f("pk_processed_events")
        ),
    )
    op.create_index(
        op.f("ix_processed_events_handled_at"), "processed_events", ["handled_at"], unique=False
    )
    op.create_table(
        "signed_requests",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("timestamp", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "timestamp", "nonce", name=op.f("pk_signed_requests")),
    )
    op.create_index(
        op.f("ix_signed_requests_seen_at"), "signed_requests", ["seen_at"], unique=False
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("refused_presses", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claim")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("refused_presses")
    op.drop_index(op.f("ix_signed_requests_seen_at"), table_name="signed_requests")
    op.drop_table("signed_requests")
    op.drop_index(op.f("ix_processed_events_handled_at"), table_name="processed_events")
    op.drop_table("processed_events")
    op.create_table(
        "processed_events",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.String(length=64), nullable=False),
        sa.Column("user_key", sa.String(length=80), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "update_id", name=op.f("pk_processed_events")),
    )
    op.create_index(
        op.f("ix_processed_events_handled_at"), "processed_events", ["handled_at"], unique=False
    )
    op.create_index(
        op.f("ix_processed_events_user_key"), "processed_events", ["user_key"], unique=False
    )
