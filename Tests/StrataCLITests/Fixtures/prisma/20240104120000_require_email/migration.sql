-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_users" (
    "id" INTEGER PRIMARY KEY,
    "name" VARCHAR (64),
    "email" TEXT NOT NULL DEFAULT ''
);
INSERT INTO "new_users" ("id", "name", "email") SELECT "id", "name", coalesce("email", '') FROM "users";
DROP TABLE "users";
ALTER TABLE "new_users" RENAME TO "users";
CREATE INDEX "ix_users_email" ON "users"("email");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
