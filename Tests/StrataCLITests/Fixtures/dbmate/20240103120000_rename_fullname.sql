-- migrate:up
ALTER TABLE users RENAME COLUMN fullname TO name;

-- migrate:down
ALTER TABLE users RENAME COLUMN name TO fullname;
