"""open courses: the course lists and their counts read one index

"By kind of work" counts the open courses of each kind, and a kind's list counts and
pages its open courses: both read every course from today on through `starts_on` and
checked each row. An index of (status, track, starts_on, signup_closes_on) answers both
from the index alone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 20:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_courses_open_track",
        "courses",
        ["status", "track", "starts_on", "signup_closes_on"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_courses_open_track", table_name="courses")
