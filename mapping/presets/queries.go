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
// whether it had a credential password (which cannot be imported).
const betterAuthQuery = `SELECT u.id, u.name, u.email, u."emailVerified" AS email_verified, u.image,
  u."createdAt" AS created_at,
  (SELECT string_agg(a."providerId", ',' ORDER BY a."providerId") FROM "account" a WHERE a."userId" = u.id) AS providers,
  CASE WHEN EXISTS (SELECT 1 FROM "account" a WHERE a."userId" = u.id AND a."providerId" = 'credential' AND a.password IS NOT NULL)
    THEN 'better_auth_scrypt' END AS password_not_migrated
FROM "user" u
ORDER BY u.id`

// authjsQuery reads the Prisma adapter's "User" with its linked providers.
const authjsQuery = `SELECT u.id, u.name, u.email, u."emailVerified" AS email_verified, u.image,
  (SELECT string_agg(a.provider, ',' ORDER BY a.provider) FROM "Account" a WHERE a."userId" = u.id) AS providers
FROM "User" u
ORDER BY u.id`

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
