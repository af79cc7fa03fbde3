-- The Alembic tutorial's first model, as plain SQLite DDL.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50) NOT NULL,
    email VARCHAR(120)
);
CREATE UNIQUE INDEX ix_users_email ON users (email);
