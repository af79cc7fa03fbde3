CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50) NOT NULL,
    email VARCHAR(120)
);
CREATE UNIQUE INDEX ix_users_email ON users (email);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    price NUMERIC NOT NULL DEFAULT 0 CHECK (price >= 0),
    owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX ix_products_owner ON products (owner_id) WHERE owner_id IS NOT NULL;
