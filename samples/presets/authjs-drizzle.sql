-- Auth.js with the Drizzle adapter's default Postgres schema
-- (@auth/drizzle-adapter, src/lib/pg.ts: pgTable "user", "account",
-- "session", "verificationToken"), as drizzle-kit creates it, with the users
-- of authjs.sql. Ids are text (UUIDs by default).
CREATE TABLE "user" (
  "id" text PRIMARY KEY NOT NULL,
  "name" text,
  "email" text NOT NULL,
  "emailVerified" timestamp,
  "image" text
);
CREATE TABLE "account" (
  "userId" text NOT NULL,
  "type" text NOT NULL,
  "provider" text NOT NULL,
  "providerAccountId" text NOT NULL,
  "refresh_token" text,
  "access_token" text,
  "expires_at" integer,
  "token_type" text,
  "scope" text,
  "id_token" text,
  "session_state" text,
  CONSTRAINT "account_provider_providerAccountId_pk" PRIMARY KEY("provider","providerAccountId")
);
CREATE TABLE "session" (
  "sessionToken" text PRIMARY KEY NOT NULL,
  "userId" text NOT NULL,
  "expires" timestamp NOT NULL
);
CREATE TABLE "verificationToken" (
  "identifier" text NOT NULL,
  "token" text NOT NULL,
  "expires" timestamp NOT NULL,
  CONSTRAINT "verificationToken_identifier_token_pk" PRIMARY KEY("identifier","token")
);
ALTER TABLE "account" ADD CONSTRAINT "account_userId_user_id_fk" FOREIGN KEY ("userId") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;
ALTER TABLE "session" ADD CONSTRAINT "session_userId_user_id_fk" FOREIGN KEY ("userId") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;

INSERT INTO "user" VALUES
  ('6f1e2d3c-0000-4ada-8000-000000000001', 'Ada Lovelace', 'ada@example.com', '2024-01-10 12:00:00', NULL),
  -- Signed in with an email link only (no account row).
  ('6f1e2d3c-0000-4ada-8000-000000000002', NULL, 'Grace.Hopper@Example.com', '2024-02-11 13:00:00', NULL),
  ('6f1e2d3c-0000-4ada-8000-000000000003', 'Linus Benedict Torvalds', 'linus@example.org', NULL, 'https://avatars.githubusercontent.com/u/1024025');
INSERT INTO "account" ("userId", type, provider, "providerAccountId", access_token, expires_at, token_type, scope) VALUES
  ('6f1e2d3c-0000-4ada-8000-000000000001', 'oauth', 'github', '583231', 'gho_a', NULL, 'bearer', 'read:user,user:email'),
  ('6f1e2d3c-0000-4ada-8000-000000000001', 'oauth', 'google', '109876543210000000001', 'ya29.a', 1700000000, 'Bearer', 'openid email profile'),
  ('6f1e2d3c-0000-4ada-8000-000000000003', 'oauth', 'github', '1024025', 'gho_l', NULL, 'bearer', 'read:user');
