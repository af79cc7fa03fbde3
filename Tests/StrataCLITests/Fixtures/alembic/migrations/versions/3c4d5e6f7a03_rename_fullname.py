"""rename fullname

Revision ID: 3c4d5e6f7a03
Revises: 2b3c4d5e6f02
Create Date: 2024-01-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = "3c4d5e6f7a03"
down_revision = "2b3c4d5e6f02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("users", "fullname", new_column_name="name")


def downgrade() -> None:
    op.alter_column("users", "name", new_column_name="fullname")
