"""english fields: course and fair content in English for English readers

Titles, training bases, addresses, venues, organisers and certificates are written in
Simplified Chinese; Cantonese readers get them converted to Traditional characters as
they are shown, but English readers need words the data file gives. A data file may now
give `<field>_en` beside each of them, kept in these columns; an empty one shows the
Chinese. Kinds of work, counties and cities need none: their vocabularies name them in
every language.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "training_bases": [("name_en", 120), ("address_en", 200)],
    "courses": [("title_en", 120), ("certificate_en", 120)],
    "job_fairs": [("title_en", 160), ("venue_en", 160), ("address_en", 200), ("organiser_en", 120)],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, length in columns:
                batch.add_column(
                    sa.Column(name, sa.String(length), nullable=False, server_default="")
                )


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _length in reversed(columns):
                batch.drop_column(name)
