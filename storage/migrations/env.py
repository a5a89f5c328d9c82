"""Alembic environment: migrations run on the connection Haoxin hands over.

`haoxin db upgrade` (and every command that opens the database) calls Alembic with an
open connection in `config.attributes["connection"]`; run offline (`--sql`) it prints SQL.
"""

from alembic import context

from storage.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")

if connection is None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
