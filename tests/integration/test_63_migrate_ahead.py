"""quirectl migrate against a database a newer quire migrated (issue #26,
section 4): versions in schema_migrations that the schema directory does
not have are named in a warning, and quirectl never says "up to date";
it exits 0 (rolling the app back after a backward-compatible migration
leads here too). Each test makes a database of its own and drops it."""

import os
import shutil
import subprocess
import tempfile
import uuid

from lib import ENV, ROOT, stack

QUIRECTL = os.path.join(ROOT, "build", "quirectl")
SCHEMA = os.path.join(ROOT, "schema")


def migrate(db, schema_dir):
    url = "postgresql://quire@127.0.0.1:%s/%s" % (ENV["QUIRE_PG_PRIMARY_PORT"], db)
    return subprocess.run([QUIRECTL, "--url", url, "migrate", "--schema-dir", schema_dir],
                          capture_output=True, text=True, timeout=60)


def db_sql(db, sql):
    return stack("psql", "primary", "-d", db, "-XAtq", "-c", sql)


class Database:
    """A database of its own, owned by quire; dropped on exit."""

    def __enter__(self):
        self.name = "quire_ahead_%s" % uuid.uuid4().hex[:10]
        stack("psql-admin", "primary", "-XAtq", "-c", "CREATE DATABASE %s OWNER quire" % self.name)
        return self

    def __exit__(self, *exc):
        stack("psql-admin", "primary", "-XAtq", "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)
        return False


def schema_files():
    return sorted(f for f in os.listdir(SCHEMA) if f.endswith(".sql"))


def test_fresh_database_has_no_warning():
    with Database() as db:
        p = migrate(db.name, SCHEMA)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert "WARNING" not in p.stderr, p.stderr
        p = migrate(db.name, SCHEMA)
        assert p.returncode == 0 and "WARNING" not in p.stderr, (p.stdout, p.stderr)
        assert p.stdout == "schema is up to date (%d migrations)\n" % len(schema_files()), p.stdout


def test_newer_database_is_named_never_up_to_date():
    n = len(schema_files())
    with Database() as db:
        p = migrate(db.name, SCHEMA)
        assert p.returncode == 0, (p.stdout, p.stderr)
        # What a newer quire would have recorded; one name with a quote.
        future = ["900-future-one", "901-future-two", '902-x"y']
        for v in future:
            db_sql(db.name, "INSERT INTO schema_migrations (version) VALUES ('%s')" % v)
        p = migrate(db.name, SCHEMA)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        assert "up to date" not in p.stdout + p.stderr, p.stdout
        assert p.stdout == ("nothing to apply: the database has the %d migrations of %s and 3 more "
                            "(see the warning)\n" % (n, SCHEMA)), p.stdout
        first = p.stderr.splitlines()[0]
        assert first == ('quirectl: WARNING: the database has migrations that %s does not have: '
                         '"900-future-one" "901-future-two" "902-x\\x22y".' % SCHEMA), first
        assert "a newer quire migrated it" in p.stderr, p.stderr
        # The case: an older schema directory with one migration.
        old = tempfile.mkdtemp(prefix="quire-schema-old-")
        try:
            shutil.copy(os.path.join(SCHEMA, "001-init.sql"), old)
            p = migrate(db.name, old)
            assert p.returncode == 0, (p.stdout, p.stderr)
            assert "up to date" not in p.stdout, p.stdout
            assert "and %d more" % (n - 1 + 3) in p.stdout, p.stdout
            assert '"002-canonical-email"' in p.stderr and '"900-future-one"' in p.stderr, p.stderr
        finally:
            shutil.rmtree(old, ignore_errors=True)


def test_pending_files_are_still_applied_with_the_warning():
    with Database() as db:
        only1 = tempfile.mkdtemp(prefix="quire-schema-001-")
        try:
            shutil.copy(os.path.join(SCHEMA, "001-init.sql"), only1)
            p = migrate(db.name, only1)
            assert p.returncode == 0 and "applied 001-init" in p.stdout, (p.stdout, p.stderr)
        finally:
            shutil.rmtree(only1, ignore_errors=True)
        db_sql(db.name, "INSERT INTO schema_migrations (version) VALUES ('950-elsewhere')")
        p = migrate(db.name, SCHEMA)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert "applied 002-canonical-email" in p.stdout, p.stdout
        assert '"950-elsewhere"' in p.stderr and "002" not in p.stderr, p.stderr


def test_many_unknown_versions_are_counted():
    with Database() as db:
        p = migrate(db.name, SCHEMA)
        assert p.returncode == 0, (p.stdout, p.stderr)
        db_sql(db.name, "INSERT INTO schema_migrations (version) "
               "SELECT 'f' || lpad(i::text, 3, '0') FROM generate_series(1, 25) i")
        p = migrate(db.name, SCHEMA)
        assert p.returncode == 0, (p.stdout, p.stderr)
        first = p.stderr.splitlines()[0]
        assert '"f010"' in first and '"f011"' not in first and first.endswith(" and 15 more."), first
        assert "and 25 more (see the warning)" in p.stdout, p.stdout
