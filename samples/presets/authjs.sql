-- Auth.js (NextAuth) Prisma adapter tables, as `prisma migrate` creates them
-- for the schema in https://authjs.dev/getting-started/adapters/prisma.
CREATE TABLE "User" (
  id text PRIMARY KEY,
  name text,
  email text UNIQUE,
  "emailVerified" timestamp(3),
  image text
);
CREATE TABLE "Account" (
  id text PRIMARY KEY,
  "userId" text NOT NULL REFERENCES "User"(id) ON DELETE CASCADE,
  type text NOT NULL,
  provider text NOT NULL,
  "providerAccountId" text NOT NULL,
  refresh_token text,
  access_token text,
  expires_at integer,
  token_type text,
  scope text,
  id_token text,
  session_state text,
  UNIQUE (provider, "providerAccountId")
);
INSERT INTO "User" VALUES ('clx1a2b3c0000ada', 'Ada Lovelace', 'ada@example.com', '2024-01-10 12:00:00', NULL);
INSERT INTO "Account" VALUES ('clacc1', 'clx1a2b3c0000ada', 'oauth', 'github', '583231', NULL, 'gho_a', NULL, 'bearer', 'read:user,user:email', NULL, NULL);
INSERT INTO "Account" VALUES ('clacc2', 'clx1a2b3c0000ada', 'oauth', 'google', '109876543210000000001', NULL, 'ya29.a', 1700000000, 'Bearer', 'openid email profile', 'eyJ...', NULL);
-- Signed in with an email link only (no Account row).
INSERT INTO "User" VALUES ('clx1a2b3c0001grc', NULL, 'Grace.Hopper@Example.com', '2024-02-11 13:00:00', NULL);
INSERT INTO "User" VALUES ('clx1a2b3c0002lin', 'Linus Benedict Torvalds', 'linus@example.org', NULL, 'https://avatars.githubusercontent.com/u/1024025');
INSERT INTO "Account" VALUES ('clacc3', 'clx1a2b3c0002lin', 'oauth', 'github', '1024025', NULL, 'gho_l', NULL, 'bearer', 'read:user', NULL, NULL);
