CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50) NOT NULL,
    email VARCHAR(120),
    age INTEGER
);
CREATE UNIQUE INDEX ix_users_email ON users (email);
