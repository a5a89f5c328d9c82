"""reply pruning: stored replies found by a partial index

Replies are now stored only for a platform that replays them (WeChat), and cleared
after 30 seconds; the janitor's "clear replies older than 30 s" read every record of the
day through the `handled_at` index to find the few that still hold replies (and cleared
ones were the JSON text `null`, which matched again: now SQL NULL). A partial index of
the records holding replies makes that read as small as what it clears.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDING_REPLIES = sa.text("replies IS NOT NULL")


def upgrade() -> None:
    # replies cleared before this were written as the JSON text `null`, not SQL NULL
    cleared = (
        "replies::text = 'null'"
        if op.get_context().dialect.name == "postgresql"
        else ("replies = 'null'")
    )
    op.execute(f"UPDATE processed_events SET replies = NULL WHERE {cleared}")
    op.create_index(
        "ix_processed_events_with_replies",
        "processed_events",
        ["handled_at"],
        unique=False,
        sqlite_where=HOLDING_REPLIES,
        postgresql_where=HOLDING_REPLIES,
    )


def downgrade() -> None:
    op.drop_index("ix_processed_events_with_replies", table_name="processed_events")
