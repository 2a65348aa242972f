-- quire: emails are unique in their canonical form, compared byte for byte.
-- The canonical form (trimmed, NFKC, full Unicode lower-casing; API.md
-- "The canonical email") is computed by the application only. The index on
-- lower(email) of 001 used a second folding, the database's, which under a
-- UTF-8 locale disagrees with it (KELVIN SIGN, U+0130, ...).
--
-- `quirectl migrate` runs a step in C before this file, in the same
-- transaction: it rewrites every stored email to its canonical form, and
-- refuses (nothing changed, exit status 1) when two rows would share one or
-- a row's form is not a valid email (docs/operations.md, "Migration
-- 002-canonical-email"). Applied by hand, this file does not rewrite them.
DROP INDEX IF EXISTS users_email_lower_key;
CREATE UNIQUE INDEX users_email_key ON users (email);
