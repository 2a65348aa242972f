"""The canonical email and NFKC passwords (API.md, "The canonical email"
and Authentication): every spelling of an address that NFKC and full
lower-casing make one (case, KELVIN SIGN, full width, composed or
decomposed accents) is one account and one rate-limit bucket, at signup,
login, POST /users, PATCH /users/:id and quirectl create-admin; passwords
match their NFKC form. Then migration 002-canonical-email on databases of
its own: stored emails rewritten in C, and a refusal that changes nothing
when two rows would share a canonical form."""

import os
import shutil
import subprocess
import tempfile
import time
import uuid

from lib import (ENV, ROOT, bearer, check_envelope_error, get, hdr, make_admin, post, psql, request, stack)

PW = "correct horse 1"
QUIRECTL = os.path.join(ROOT, "build", "quirectl")
KELVIN = "\u212a"
ACUTE = "\u0301"


def fullwidth(s):
    """ASCII letters and digits as their full-width forms (U+FF01..)."""
    return "".join(chr(ord(c) - 0x21 + 0xff01) if c.isascii() and c.isalnum() else c for c in s)


def spellings(tag):
    """(canonical, [spellings of it]) for a fresh address. The local part
    is 'kafé-<tag>'; every spelling canonicalises to it."""
    canon = "kaf\u00e9-%s@example.com" % tag
    return canon, [
        "KAF\u00c9-%s@EXAMPLE.COM" % tag,                  # upper case, composed
        KELVIN + "afe" + ACUTE + "-%s@example.com" % tag,   # KELVIN SIGN, decomposed
        fullwidth("kaf") + "\u00e9-%s@%s.com" % (tag, fullwidth("example")),
        "kafe" + ACUTE + "-%s@Example.com" % tag,           # decomposed
        "  Kaf\u00e9-%s@example.com\t" % tag,               # trimmed
    ]


def signup(email, password=PW, name="Kaf"):
    return post("/auth/signup", json_body={"name": name, "email": email, "password": password}, headers=hdr())


def login(email, password=PW):
    return post("/auth/login", json_body={"email": email, "password": password}, headers=hdr())


def patch(path, body, tok):
    return request("PATCH", path, json_body=body, headers=bearer(tok))


def clear_of_minute_edge():
    """The rate limit counts in fixed one-minute windows: start a count
    well inside one, so that it does not straddle two."""
    s = time.time() % 60
    if s > 45:
        time.sleep(60.5 - s)


# ------------------------------------------------------------ one account

def test_spellings_are_one_account():
    tag = uuid.uuid4().hex[:10]
    canon, variants = spellings(tag)
    r = signup(variants[1])
    assert r.status == 201, r
    user = r.json["data"]["user"]
    assert user["email"] == canon, (user["email"], canon)
    stored = psql("primary", "SELECT email FROM users WHERE id = '%s'" % user["id"]).strip()
    assert stored == canon, stored
    for v in [canon] + variants:
        r = login(v)
        assert r.status == 200, (v, r)
        assert r.json["data"]["user"]["id"] == user["id"], v
        assert r.json["data"]["user"]["email"] == canon
    # Other spellings are taken (three more: ten attempts on this email's
    # one bucket so far, its limit).
    for v in (canon, variants[2], variants[3]):
        check_envelope_error(signup(v), 409, "CONFLICT")


def test_dotted_capital_i_is_its_own_account():
    """U+0130 lower-cases fully to i + U+0307: not 'mike'. PostgreSQL's
    lower() under a UTF-8 locale made it 'mike' (the audit's finding)."""
    tag = uuid.uuid4().hex[:10]
    r1 = signup("mike-%s@example.com" % tag)
    r2 = signup("m\u0130ke-%s@example.com" % tag)
    assert r1.status == 201 and r2.status == 201, (r1, r2)
    u1, u2 = r1.json["data"]["user"], r2.json["data"]["user"]
    assert u1["id"] != u2["id"]
    assert u2["email"] == "mi\u0307ke-%s@example.com" % tag, u2["email"]
    # The stored form logs in as itself; the plain one as the other user.
    r = login("MI\u0307KE-%s@example.com" % tag)
    assert r.status == 200 and r.json["data"]["user"]["id"] == u2["id"], r
    r = login("MIKE-%s@example.com" % tag)
    assert r.status == 200 and r.json["data"]["user"]["id"] == u1["id"], r


def test_one_rate_limit_bucket():
    """Ten wrong logins spread over the spellings, each from its own
    address: the eleventh attempt, whatever its spelling, is 429. With
    one bucket per spelling none would be limited."""
    tag = uuid.uuid4().hex[:10]
    canon, variants = spellings(tag)
    order = variants + [canon] + variants
    clear_of_minute_edge()
    statuses = [login(order[i % len(order)], "wrong-password").status for i in range(10)]
    assert statuses == [401] * 10, statuses
    for v in [canon] + variants:
        r = login(v, "wrong-password")
        check_envelope_error(r, 429, "RATE_LIMITED")
        assert r.header("Retry-After"), r.headers
    # Another address is another bucket.
    assert login("other-%s@example.com" % tag, "wrong-password").status == 401


def test_signup_counts_in_the_same_bucket():
    tag = uuid.uuid4().hex[:10]
    canon, variants = spellings(tag)
    clear_of_minute_edge()
    r = signup(variants[2])        # full width: attempt 1
    assert r.status == 201, r
    statuses = [login(variants[i % len(variants)], "wrong-password").status for i in range(9)]
    assert statuses == [401] * 9, statuses
    check_envelope_error(login(canon), 429, "RATE_LIMITED")
    check_envelope_error(signup(variants[1]), 429, "RATE_LIMITED")


# ---------------------------------------------------------------- /users

def test_users_create_and_patch_use_the_canonical_form():
    tok, _ = make_admin("admin26")
    tag = uuid.uuid4().hex[:10]
    canon, variants = spellings(tag)
    r = post("/users", json_body={"name": "Kaf", "email": variants[2], "password": PW}, headers=bearer(tok))
    assert r.status == 201, r
    uid = r.json["data"]["id"]
    assert r.json["data"]["email"] == canon
    r = post("/users", json_body={"name": "Kaf", "email": variants[1], "password": PW}, headers=bearer(tok))
    check_envelope_error(r, 409, "CONFLICT")
    # Another user may not take any spelling of it.
    other = signup("other-%s@example.com" % tag)
    assert other.status == 201, other
    otok, oid = other.json["data"]["token"], other.json["data"]["user"]["id"]
    for v in variants:
        check_envelope_error(patch("/users/" + oid, {"email": v}, otok), 409, "CONFLICT")
    # Its owner may respell it: stored canonical, unchanged.
    r = patch("/users/" + uid, {"email": variants[1]}, tok)
    assert r.status == 200 and r.json["data"]["email"] == canon, r
    # A new address, given in full width and upper case, is stored canonical.
    r = patch("/users/" + oid, {"email": fullwidth("NEW-%s" % tag) + "@Example.com"}, otok)
    assert r.status == 200, r
    assert r.json["data"]["email"] == "new-%s@example.com" % tag, r.json["data"]["email"]
    assert login("NEW-%s@example.com" % tag).json["data"]["user"]["id"] == oid


def test_create_admin_canonicalises_and_normalises():
    tag = uuid.uuid4().hex[:10]
    email = KELVIN + "ATE-%s@Example.COM" % tag
    p = subprocess.run([QUIRECTL, "create-admin", "--email", email, "--name", "Root"],
                       input="pass\ufb01word-%s\n" % tag, capture_output=True, text=True,
                       env=dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_PRIMARY_URL"]), timeout=30)
    assert p.returncode == 0, p.stderr
    uid = p.stdout.strip()
    stored = psql("primary", "SELECT email || '|' || role FROM users WHERE id = '%s'" % uid).strip()
    assert stored == "kate-%s@example.com|admin" % tag, stored
    r = login(fullwidth("kate") + "-%s@example.com" % tag, "passfiword-%s" % tag)
    assert r.status == 200 and r.json["data"]["user"]["id"] == uid, r
    # Again with another spelling: the same user, promoted, not a second one.
    p = subprocess.run([QUIRECTL, "create-admin", "--email", "kate-%s@example.com" % tag, "--name", "Root"],
                       input="another-pass-1\n", capture_output=True, text=True,
                       env=dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_PRIMARY_URL"]), timeout=30)
    assert p.returncode == 0 and p.stdout.strip() == uid, (p.stdout, p.stderr)
    # An address whose canonical form is no email is refused.
    p = subprocess.run([QUIRECTL, "create-admin", "--email", "ka\u3000te@x.io", "--name", "Root"],
                       input="another-pass-1\n", capture_output=True, text=True,
                       env=dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_PRIMARY_URL"]), timeout=30)
    assert p.returncode == 2 and "valid email" in p.stderr, (p.returncode, p.stderr)


# -------------------------------------------------------------- passwords

def test_password_nfkc_signup_login_change():
    tag = uuid.uuid4().hex[:10]
    email = "pw-%s@example.com" % tag
    r = signup(email, password="pass\ufb01word")          # ligature fi
    assert r.status == 201, r
    tok, uid = r.json["data"]["token"], r.json["data"]["user"]["id"]
    assert login(email, "passfiword").status == 200
    assert login(email, "pass\ufb01word").status == 200
    assert login(email, fullwidth("passfiword")).status == 200
    check_envelope_error(login(email, "PASSFIWORD"), 401, "UNAUTHORIZED")
    # Decomposed accents in the new password; the composed form logs in.
    r = patch("/users/" + uid, {"password": "cafe" + ACUTE + "-secret"}, tok)
    assert r.status == 200, r
    assert login(email, "caf\u00e9-secret").status == 200
    assert login(email, "cafe" + ACUTE + "-secret").status == 200
    check_envelope_error(login(email, "passfiword"), 401, "UNAUTHORIZED")
    check_envelope_error(login(email, "cafe-secret"), 401, "UNAUTHORIZED")


def test_password_length_counts_as_sent():
    """8-128 code points as sent: four ligatures are 8 after NFKC but 4
    as sent, and refused; eight are accepted."""
    r = signup("len-%s@example.com" % uuid.uuid4().hex[:10], password="\ufb01" * 4)
    j = check_envelope_error(r, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in j["details"]] == ["password"], j
    email = "len-%s@example.com" % uuid.uuid4().hex[:10]
    assert signup(email, password="\ufb01" * 8).status == 201
    assert login(email, "fi" * 8).status == 200


# -------------------------------------------------------------- migration

def admin_sql(sql):
    return stack("psql-admin", "primary", "-XAtq", "-c", sql)


def db_sql(db, sql):
    """SQL on database db as its owner, quire (unaligned, tuples only)."""
    return stack("psql", "primary", "-d", db, "-XAtq", "-c", sql)


def migrate(db, schema_dir):
    url = "postgresql://quire@127.0.0.1:%s/%s" % (ENV["QUIRE_PG_PRIMARY_PORT"], db)
    return subprocess.run([QUIRECTL, "--url", url, "migrate", "--schema-dir", schema_dir],
                          capture_output=True, text=True, timeout=60)


class OldDatabase:
    """A database of its own with only migration 001 applied; dropped on
    exit."""

    def __enter__(self):
        self.name = "quire_mig_%s" % uuid.uuid4().hex[:10]
        self.old = tempfile.mkdtemp(prefix="quire-schema-001-")
        shutil.copy(os.path.join(ROOT, "schema", "001-init.sql"), self.old)
        admin_sql("CREATE DATABASE %s OWNER quire" % self.name)
        p = migrate(self.name, self.old)
        assert p.returncode == 0 and "applied 001-init" in p.stdout, (p.stdout, p.stderr)
        return self

    def insert(self, email):
        out = db_sql(self.name, "INSERT INTO users (name, email) VALUES ('x', '%s') RETURNING id" % email)
        return out.strip().splitlines()[0]

    def emails(self):
        out = db_sql(self.name, "SELECT id || ' ' || email FROM users ORDER BY id")
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def indexes(self):
        return db_sql(self.name, "SELECT indexname || ' ' || indexdef FROM pg_indexes "
                      "WHERE tablename = 'users' ORDER BY 1").splitlines()

    def versions(self):
        return db_sql(self.name, "SELECT version FROM schema_migrations ORDER BY 1").split()

    def __exit__(self, *exc):
        shutil.rmtree(self.old, ignore_errors=True)
        admin_sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)
        return False


def test_migration_rewrites_stored_emails():
    schema = os.path.join(ROOT, "schema")
    with OldDatabase() as db:
        rows = {
            db.insert("Kate@X.io"): "kate@x.io",
            db.insert(fullwidth("BOB") + "@x.io"): "bob@x.io",
            db.insert("cafe" + ACUTE + "@x.io"): "caf\u00e9@x.io",
            db.insert(KELVIN + "en@x.io"): "ken@x.io",
            db.insert("already@x.io"): "already@x.io",
        }
        before = db_sql(db.name, "SELECT updated_at FROM users WHERE email = 'already@x.io'").strip()
        p = migrate(db.name, schema)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert "canonical emails: 4 of 5 rewritten" in p.stdout, p.stdout
        assert "applied 002-canonical-email" in p.stdout, p.stdout
        assert db.emails() == rows, db.emails()
        after = db_sql(db.name, "SELECT updated_at FROM users WHERE email = 'already@x.io'").strip()
        assert before == after, "a row already canonical is left alone"
        idx = db.indexes()
        assert any(l.startswith("users_email_key CREATE UNIQUE INDEX") and l.endswith("(email)") for l in idx), idx
        assert not any(l.startswith("users_email_lower_key") for l in idx), idx
        assert "002-canonical-email" in db.versions()
        # The index compares bytes: the same bytes are refused, and folding
        # is the app's alone (a hand-written 'Kate@X.io' is another value).
        stack("psql", "primary", "-d", db.name, "-XAtq", "-c",
              "INSERT INTO users (name, email) VALUES ('x', 'kate@x.io')", check=False)
        count = db_sql(db.name, "SELECT count(*) FROM users WHERE email = 'kate@x.io'").strip()
        assert count == "1", count
        assert db.insert("Kate@X.io")
        p = migrate(db.name, schema)
        n = len([f for f in os.listdir(schema) if f.endswith(".sql")])
        assert p.returncode == 0 and "schema is up to date (%d migrations)" % n in p.stdout, (p.stdout, p.stderr)


def test_migration_refuses_collisions_and_changes_nothing():
    schema = os.path.join(ROOT, "schema")
    with OldDatabase() as db:
        # Each pair is two rows under lower(email), one canonical form.
        kate = db.insert("kate@x.io")
        kate_fw = db.insert(fullwidth("kate") + "@x.io")
        cafe = db.insert("caf\u00e9@x.io")
        cafe_d = db.insert("cafe" + ACUTE + "@x.io")
        spaced = db.insert("ka\u3000te@y.io")     # NFKC: a space inside
        fine = db.insert("Zed@X.io")
        before = db.emails()
        p = migrate(db.name, schema)
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        err = p.stderr
        lines = err.splitlines()
        pair1 = [l for l in lines if kate in l and kate_fw in l]
        assert pair1 and '"kate@x.io"' in pair1[0] and '"%s@x.io"' % fullwidth("kate") in pair1[0], err
        pair2 = [l for l in lines if cafe in l and cafe_d in l]
        assert pair2 and '"caf\u00e9@x.io"' in pair2[0] and '"cafe%s@x.io"' % ACUTE in pair2[0], err
        bad = [l for l in lines if spaced in l]
        assert bad and "valid email" in bad[0], err
        assert fine not in err, err
        assert "002-canonical-email not applied; nothing changed" in err, err
        assert "applied 002" not in p.stdout, p.stdout
        # Nothing changed: not the rows, not the index, not the record.
        assert db.emails() == before, db.emails()
        idx = db.indexes()
        assert any(l.startswith("users_email_lower_key") for l in idx), idx
        assert not any(l.startswith("users_email_key") for l in idx), idx
        assert db.versions() == ["001-init"], db.versions()
        # The operator resolves them (docs/operations.md), and it goes through.
        db_sql(db.name, "DELETE FROM users WHERE id IN ('%s', '%s')" % (kate_fw, cafe_d))
        db_sql(db.name, "UPDATE users SET email = 'kate2@y.io' WHERE id = '%s'" % spaced)
        p = migrate(db.name, schema)
        assert p.returncode == 0 and "applied 002-canonical-email" in p.stdout, (p.stdout, p.stderr)
        got = db.emails()
        assert got == {kate: "kate@x.io", cafe: "caf\u00e9@x.io", spaced: "kate2@y.io", fine: "zed@x.io"}, got
