ALTER TABLE users RENAME COLUMN name TO fullname;
