"""members

Revision ID: 6f7a8b9c0d06
Revises: 5e6f7a8b9c05
Create Date: 2024-01-06 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = "6f7a8b9c0d06"
down_revision = "5e6f7a8b9c05"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A rename inside a rebuild, then a table rename.
    with op.batch_alter_table("users", recreate="always") as batch:
        batch.alter_column("age", new_column_name="years", existing_type=sa.Integer)
    op.rename_table("users", "members")


def downgrade() -> None:
    op.rename_table("members", "users")
    op.execute("SELECT no_such_function()")
