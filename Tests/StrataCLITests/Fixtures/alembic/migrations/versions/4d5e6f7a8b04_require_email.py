"""require email

Revision ID: 4d5e6f7a8b04
Revises: 3c4d5e6f7a03
Create Date: 2024-01-04 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = "4d5e6f7a8b04"
down_revision = "3c4d5e6f7a03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE users SET email = '' WHERE email IS NULL")
    # SQLite cannot alter a column in place: batch mode rebuilds the table.
    with op.batch_alter_table("users") as batch:
        batch.alter_column("email", existing_type=sa.Text, nullable=False, server_default="")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column("email", existing_type=sa.Text, nullable=True, server_default=None)
