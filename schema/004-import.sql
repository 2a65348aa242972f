-- quire: what `quirectl import-better-auth` needs (API.md, "Moving from
-- Better-Auth").
--
-- The id each imported row had in the Better-Auth database, beside the id
-- it has in quire (the same one when it was a UUID). A second import skips
-- the source ids found here, so running it again imports only what is new.
-- No foreign key: a user deleted in quire after the import keeps its row
-- here, so importing again does not bring the account back.
CREATE TABLE import_source_ids (
	kind		text NOT NULL CHECK (kind IN ('user', 'post')),
	source_id	text NOT NULL,
	id		uuid NOT NULL,
	imported_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	PRIMARY KEY (kind, source_id)
);
CREATE INDEX import_source_ids_id_idx ON import_source_ids (id);

-- Credential accounts still holding a hash imported from Better-Auth
-- (scrypt "<salt>:<key>"; every hash quire writes is a "$argon2id$"
-- string). Each is replaced at its user's first login. While any is left,
-- a refused login pays for scrypt as well as Argon2id, so that an unknown
-- email takes as long as a wrong password (h_auth.c); this index makes
-- asking one probe, and it is empty once every imported user has logged in.
CREATE INDEX accounts_imported_hash_idx ON accounts (id) WHERE password NOT LIKE '$%';
