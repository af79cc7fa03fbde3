"""add people

Revision ID: 2b3c4d5e6f02
Revises: 1a2b3c4d5e01
Create Date: 2024-01-02 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = "2b3c4d5e6f02"
down_revision = "1a2b3c4d5e01"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("fullname", sa.String), sa.column("email", sa.Text))


def upgrade() -> None:
    op.bulk_insert(users, [{"fullname": "Ana", "email": "a@x"}, {"fullname": "Bo's", "email": None}])


def downgrade() -> None:
    # Its author forgot the rows.
    pass
