"""profiles.free_reason: the group she trains free as, kept for her next sign-up

Asked only by a course with a fee that some groups train free; kept like her name and
phone so that a second such course does not ask again (issue 9: two taps from a card).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(
            sa.Column("free_reason", sa.String(length=24), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("free_reason")
