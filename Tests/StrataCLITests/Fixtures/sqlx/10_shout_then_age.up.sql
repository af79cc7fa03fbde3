UPDATE users SET name = upper(name);
ALTER TABLE users ADD COLUMN age INTEGER;
ALTER TABLE users ADD COLUMN status TEXT DEFAULT "active";
