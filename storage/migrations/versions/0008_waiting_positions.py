"""waiting positions: counted from one index

A waitlisted person's place is the number of people ahead of her on that course's
waiting list. It was counted by reading every sign-up of the course through the unique
(course_id, user_id) key and checking each row: with a thousand waiting, every
confirmation and every "My sign-ups" read a thousand rows. An index of
(course_id, status, queued_at, id) counts them from the index alone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_signups_waiting",
        "signups",
        ["course_id", "status", "queued_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_signups_waiting", table_name="signups")
