"""Alembic environment of the audit service: runs on the connection nxshared.db.migrate gives."""

from alembic import context

from audit.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
