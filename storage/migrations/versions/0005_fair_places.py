"""fair places: the fairs list filters, counts and pages in SQL

`fair_places` holds where each fair's jobs are (one row per destination, in the order the
fair card names them), with a copy of the fair's `starts_at` and `status`: a foreign key
to the fair's (id, starts_at, status), ON UPDATE CASCADE, keeps the copy equal whatever
writes the fair. Its target is a new unique index of job_fairs. Two more indexes serve
the list: open fairs by start, and by county then start. Existing fairs are backfilled
from their `employers`, the way `storage.fairs.destinations` reads them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: fairs read per batch while backfilling
BATCH = 1000


def _places(employers: Any) -> list[str]:
    """`storage.fairs.places` as of this revision: the jobs' destinations, each once, in
    the order first mentioned; a non-text destination (never imported) is left out."""
    seen: list[str] = []
    for employer in employers if isinstance(employers, list) else []:
        jobs = employer.get("jobs", []) if isinstance(employer, dict) else []
        for job in jobs if isinstance(jobs, list) else []:
            place = job.get("destination", "") if isinstance(job, dict) else ""
            if place and isinstance(place, str) and place not in seen:
                seen.append(place)
    return seen


def _fairs(conn: sa.Connection) -> Iterator[list[tuple[int, Any]]]:
    """Every fair's (id, employers), `BATCH` at a time, by id."""
    fairs = sa.table("job_fairs", sa.column("id", sa.Integer), sa.column("employers", sa.JSON))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(fairs.c.id, fairs.c.employers)
            .where(fairs.c.id > last)
            .order_by(fairs.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        yield [(row.id, row.employers) for row in rows]
        last = rows[-1].id


def _backfill() -> None:
    conn = op.get_bind()
    fairs = sa.table(
        "job_fairs",
        sa.column("id", sa.Integer),
        sa.column("starts_at", sa.DateTime),
        sa.column("status", sa.String),
    )
    places = sa.table(
        "fair_places",
        sa.column("fair_id", sa.Integer),
        sa.column("place", sa.Text),
        sa.column("position", sa.Integer),
        sa.column("starts_at", sa.DateTime),
        sa.column("status", sa.String),
    )
    # the copies of starts_at and status come from the fair's own row, as stored
    insert = places.insert().from_select(
        ["fair_id", "place", "position", "starts_at", "status"],
        sa.select(
            fairs.c.id,
            sa.bindparam("place", type_=sa.Text),
            sa.bindparam("position", type_=sa.Integer),
            fairs.c.starts_at,
            fairs.c.status,
        ).where(fairs.c.id == sa.bindparam("fair_id", type_=sa.Integer)),
    )
    for batch in _fairs(conn):
        rows = [
            {"fair_id": ident, "place": place, "position": n}
            for ident, employers in batch
            for n, place in enumerate(_places(employers))
        ]
        if rows:
            conn.execute(insert, rows)


def upgrade() -> None:
    with op.batch_alter_table("job_fairs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_fairs_status_starts_at", ["status", "starts_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_job_fairs_status_county", ["status", "county", "starts_at", "id"], unique=False
        )
        batch_op.create_index(
            "uq_job_fairs_id_starts_at_status", ["id", "starts_at", "status"], unique=True
        )
    op.create_table(
        "fair_places",
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["fair_id", "starts_at", "status"],
            ["job_fairs.id", "job_fairs.starts_at", "job_fairs.status"],
            name=op.f("fk_fair_places_fair_id_job_fairs"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("fair_id", "place", name=op.f("pk_fair_places")),
    )
    op.create_index(
        "ix_fair_places_status_place",
        "fair_places",
        ["status", "place", "starts_at", "fair_id"],
        unique=False,
    )
    if not context.is_offline_mode():  # `--sql` prints the schema; data needs a database
        _backfill()


def downgrade() -> None:
    op.drop_index("ix_fair_places_status_place", table_name="fair_places")
    op.drop_table("fair_places")
    with op.batch_alter_table("job_fairs", schema=None) as batch_op:
        batch_op.drop_index("uq_job_fairs_id_starts_at_status")
        batch_op.drop_index("ix_job_fairs_status_county")
        batch_op.drop_index("ix_job_fairs_status_starts_at")
