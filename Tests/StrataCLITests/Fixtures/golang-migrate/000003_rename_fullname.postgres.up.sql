ALTER TABLE users RENAME fullname TO name;
