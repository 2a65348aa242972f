"""Least privilege in the database (docs/deploy.md, "Database roles"): the
app logs in as quire_app, which may read and write rows and nothing else;
the schema belongs to quire, which runs the migrations. quire_app is
refused every DDL statement and TRUNCATE, owns nothing, and still gets
its rows on tables a later migration makes (default privileges)."""

import os
import subprocess
import uuid

from lib import ENV, ROOT, RUN_DIR, bearer, get, hdr, post, psql, unique_email, wait_for


def _psql(sub, server, sql):
    """Runs sql through scripts/stack SUB (psql, psql-app, psql-admin);
    returns (exit status, stdout, stderr)."""
    env = dict(os.environ, QUIRE_RUN_DIR=RUN_DIR)
    for k in ("QUIRE_HTTP_PORT", "QUIRE_PG_PRIMARY_PORT", "QUIRE_PG_REPLICA_PORT", "QUIRE_WEB", "QUIRE_WORKERS"):
        env[k] = ENV[k]
    p = subprocess.run([os.path.join(ROOT, "scripts", "stack"), sub, server, "-XAtq", "-c", sql],
                       env=env, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def _app(sql, server="primary"):
    return _psql("psql-app", server, sql)


def _refused(sql, why):
    rc, out, err = _app(sql)
    assert rc != 0, "quire_app was allowed: %s (%s)" % (sql, out)
    assert why in err, (sql, err)


def test_the_app_role_reads_and_writes_rows():
    rc, out, err = _app("SELECT current_user, count(*) >= 0 FROM users")
    assert rc == 0 and out == "quire_app|t", (rc, out, err)
    rc, out, err = _app("SELECT count(*) >= 0 FROM posts", server="replica")
    assert rc == 0 and out == "t", (rc, out, err)
    # Rows in and out again, in a transaction that leaves nothing behind.
    email = unique_email("lp")
    rc, out, err = _app("BEGIN; INSERT INTO users (name, email) VALUES ('LP', '%s'); "
                        "UPDATE users SET name = 'LP2' WHERE email = '%s'; "
                        "DELETE FROM users WHERE email = '%s' RETURNING name; ROLLBACK" % (email, email, email))
    assert rc == 0 and out == "LP2", (rc, out, err)


def test_the_app_role_may_not_change_the_schema():
    _refused("CREATE TABLE lp_x (i int)", "permission denied for schema public")
    _refused("CREATE TEMP TABLE lp_t (i int)", "permission denied to create temporary tables")
    _refused("DROP TABLE users", "must be owner of table users")
    _refused("ALTER TABLE users ADD COLUMN lp int", "must be owner of table users")
    _refused("CREATE INDEX lp_i ON posts (title)", "must be owner of table posts")
    _refused("TRUNCATE sessions", "permission denied for table sessions")
    _refused("TRUNCATE posts CASCADE", "permission denied for table posts")
    # Without the grant option a GRANT only warns, and grants nothing.
    rc, out, err = _app("GRANT SELECT ON users TO PUBLIC")
    assert "no privileges were granted" in err, (rc, err)
    # Nothing happened: the tables are still there, unchanged.
    assert psql("primary", "SELECT count(*) FROM information_schema.columns "
                "WHERE table_name = 'users' AND column_name = 'lp'").strip() == "0"
    assert psql("primary", "SELECT count(*) FROM information_schema.role_table_grants "
                "WHERE table_name = 'users' AND grantee = 'PUBLIC'").strip() == "0"
    assert psql("primary", "SELECT to_regclass('lp_x') IS NULL").strip() == "t"


def test_the_app_role_owns_nothing_and_is_not_privileged():
    rc, out, err = _psql("psql-admin", "primary",
                         "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication "
                         "FROM pg_roles WHERE rolname = 'quire_app'")
    assert rc == 0 and out == "f", (rc, out, err)
    owners = psql("primary", "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables "
                  "WHERE schemaname = 'public'").strip()
    assert owners == "quire", owners
    rc, out, err = _psql("psql-admin", "primary", "SELECT pg_get_userbyid(datdba) FROM pg_database "
                         "WHERE datname = 'quire'")
    assert rc == 0 and out == "quire", (rc, out, err)


def test_tables_of_later_migrations_are_covered():
    # A table made by the owner, as a later migration would.
    t = "lp_" + uuid.uuid4().hex[:10]
    psql("primary", "CREATE TABLE %s (id bigserial PRIMARY KEY, v text)" % t)
    try:
        rc, out, err = _app("INSERT INTO %s (v) VALUES ('a') RETURNING id; "
                            "UPDATE %s SET v = 'b'; SELECT v FROM %s; DELETE FROM %s" % (t, t, t, t))
        assert rc == 0 and out.split() == ["1", "b"], (rc, out, err)
        _refused("TRUNCATE %s" % t, "permission denied for table %s" % t)
        _refused("DROP TABLE %s" % t, "must be owner of table %s" % t)
    finally:
        psql("primary", "DROP TABLE IF EXISTS %s" % t)


def test_migrations_need_the_owner():
    ctl = os.path.join(ROOT, "build", "quirectl")
    p = subprocess.run([ctl, "migrate", "--schema-dir", os.path.join(ROOT, "schema")],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_APP_DB_URL"]))
    assert p.returncode != 0 and "permission denied" in p.stderr, (p.returncode, p.stdout, p.stderr)
    p = subprocess.run([ctl, "migrate", "--schema-dir", os.path.join(ROOT, "schema")],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_OWNER_URL"]))
    assert p.returncode == 0 and "up to date" in p.stdout, (p.returncode, p.stdout, p.stderr)


def test_the_running_app_connects_as_the_app_role():
    # A signed-in write and reads, so the workers have connections to both.
    r = post("/auth/signup", json_body={"name": "LP", "email": unique_email("lp"), "password": "correct horse 1"},
             headers=hdr())
    assert r.status == 201, r
    tok = r.json["data"]["token"]
    r = post("/posts", json_body={"title": "lp", "content": "least privilege"}, headers=bearer(tok))
    assert r.status == 201, r
    for _ in range(8):
        assert get("/posts?limit=1").status == 200
    for server in ("primary", "replica"):
        def users():
            rc, out, err = _psql("psql-admin", server, "SELECT string_agg(DISTINCT usename, ',') "
                                 "FROM pg_stat_activity WHERE application_name = 'quire'")
            assert rc == 0, err
            return out
        assert wait_for(users, what="the app's connections to the %s" % server) == "quire_app", server
