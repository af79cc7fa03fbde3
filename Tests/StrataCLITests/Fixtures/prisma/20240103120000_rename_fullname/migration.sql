ALTER TABLE users RENAME COLUMN fullname TO name;
