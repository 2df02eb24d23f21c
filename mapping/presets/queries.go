package presets

// The queries that read users straight from a system's own Postgres. Each
// orders by the key, so record indexes are stable across runs, and gives the
// columns its preset's mapping reads; a CSV of the same query (psql:
// \copy (<query>) TO 'users.csv' CSV HEADER) works with the same preset.

// supabaseQuery reads auth.users with each user's first verified TOTP
// factor, without soft-deleted users.
const supabaseQuery = `SELECT u.*, f.secret AS totp_secret
FROM auth.users u
LEFT JOIN LATERAL (
  SELECT m.secret FROM auth.mfa_factors m
  WHERE m.user_id = u.id AND m.factor_type = 'totp' AND m.status = 'verified'
  ORDER BY m.created_at LIMIT 1
) f ON true
WHERE u.deleted_at IS NULL
ORDER BY u.id`

// betterAuthQuery reads Better Auth's "user" with its linked providers and
// its credential password as a Clerk digest. Better Auth's own scrypt
// ("<salt hex>:<key hex>", N=16384 r=16 p=1, a 64-byte key, the salt's hex
// text as the salt) is Werkzeug's scrypt with those parameters:
// "scrypt:16384:16:1$<salt>$<key>". A password a custom hasher wrote as
// bcrypt or argon2 goes as it is; any other form is named in
// password_not_migrated.
const betterAuthQuery = `SELECT u.id, u.name, u.email, u."emailVerified" AS email_verified, u.image,
  u."createdAt" AS created_at,
  (SELECT string_agg(a."providerId", ',' ORDER BY a."providerId") FROM "account" a WHERE a."userId" = u.id) AS providers,
  CASE
    WHEN c.password ~ '^[0-9a-f]{1,64}:[0-9a-f]{128}$' THEN 'scrypt_werkzeug'
    WHEN c.password ~ '^\$2[aby]\$' THEN 'bcrypt'
    WHEN c.password LIKE '$argon2id$%' THEN 'argon2id'
    WHEN c.password LIKE '$argon2i$%' THEN 'argon2i'
  END AS password_hasher,
  CASE
    WHEN c.password ~ '^[0-9a-f]{1,64}:[0-9a-f]{128}$'
      THEN 'scrypt:16384:16:1$' || split_part(c.password, ':', 1) || '$' || split_part(c.password, ':', 2)
    WHEN c.password ~ '^\$2[aby]\$' OR c.password LIKE '$argon2i%' THEN c.password
  END AS password_digest,
  CASE
    WHEN c.password IS NULL OR c.password ~ '^[0-9a-f]{1,64}:[0-9a-f]{128}$' OR c.password ~ '^\$2[aby]\$'
      OR c.password LIKE '$argon2i%' THEN NULL
    ELSE 'better_auth_unknown_hash'
  END AS password_not_migrated
FROM "user" u
LEFT JOIN LATERAL (
  SELECT a.password FROM "account" a
  WHERE a."userId" = u.id AND a."providerId" = 'credential' AND a.password IS NOT NULL
  ORDER BY a."createdAt", a.id LIMIT 1
) c ON true
ORDER BY u.id`

// authjsVariants are the tables of Auth.js's Postgres adapters, each read
// into the same columns: id, name, email, email_verified (the time of the
// email-link sign-in, NULL when never), image and providers (the linked
// OAuth providers, comma-separated).
var authjsVariants = []Variant{
	{Name: "prisma", Tables: `the Prisma adapter's "User" and "Account"`,
		Marks: [][2]string{{"User", "emailVerified"}, {"Account", "providerAccountId"}},
		Query: authjsQuery(`"User"`, `"Account"`)},
	{Name: "pg", Tables: `the pg adapter's users and accounts (@auth/pg-adapter)`,
		Marks: [][2]string{{"users", "emailVerified"}, {"accounts", "providerAccountId"}},
		Query: authjsQuery("users", "accounts")},
	{Name: "drizzle", Tables: `the Drizzle adapter's default "user" and "account"`,
		Marks: [][2]string{{"user", "emailVerified"}, {"account", "providerAccountId"}},
		Query: authjsQuery(`"user"`, `"account"`)},
}

// authjsQuery reads an Auth.js users table with its linked providers.
func authjsQuery(users, accounts string) string {
	return `SELECT u.id, u.name, u.email, u."emailVerified" AS email_verified, u.image,
  (SELECT string_agg(a.provider, ',' ORDER BY a.provider) FROM ` + accounts + ` a WHERE a."userId" = u.id) AS providers
FROM ` + users + ` u
ORDER BY u.id`
}

// djangoQuery reads auth_user and turns Django's password strings into
// Clerk hashers and digests.
const djangoQuery = `SELECT id, username, first_name, last_name, email, is_staff, is_superuser, date_joined,
  NOT is_active AS banned,
  CASE
    WHEN password LIKE 'pbkdf2\_sha256$%' THEN 'pbkdf2_sha256_django'
    WHEN password LIKE 'bcrypt\_sha256$%' THEN 'bcrypt_sha256_django'
    WHEN password LIKE 'argon2$argon2id$%' THEN 'argon2id'
    WHEN password LIKE 'argon2$argon2i$%' THEN 'argon2i'
    WHEN password LIKE 'bcrypt$$%' THEN 'bcrypt'
  END AS password_hasher,
  CASE
    WHEN password LIKE 'pbkdf2\_sha256$%' OR password LIKE 'bcrypt\_sha256$%' THEN password
    WHEN password LIKE 'argon2$argon2id$%' OR password LIKE 'argon2$argon2i$%' THEN substr(password, 7)
    WHEN password LIKE 'bcrypt$$%' THEN substr(password, 8)
  END AS password_digest,
  CASE
    WHEN password = '' OR password LIKE '!%' THEN NULL
    WHEN password LIKE 'pbkdf2\_sha256$%' OR password LIKE 'bcrypt\_sha256$%' OR password LIKE 'argon2$argon2i%'
      OR password LIKE 'bcrypt$$%' THEN NULL
    ELSE 'django_' || split_part(password, '$', 1)
  END AS password_not_migrated
FROM auth_user
ORDER BY id`
