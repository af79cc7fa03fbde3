"""shout then age

Revision ID: 5e6f7a8b9c05
Revises: 4d5e6f7a8b04
Create Date: 2024-01-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = "5e6f7a8b9c05"
down_revision = "4d5e6f7a8b04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE users SET name = upper(name)")
    op.add_column("users", sa.Column("age", sa.Integer))
    op.add_column("users", sa.Column("status", sa.Text, server_default="active"))


def downgrade() -> None:
    # Drops only one of the two columns.
    op.drop_column("users", "status")
