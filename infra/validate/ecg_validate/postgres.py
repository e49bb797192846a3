"""compose/postgres/10-ecg-roles.sh and the AWS db-bootstrap script, each run against a throwaway
PostgreSQL: every role logs in, writes its own schema and nothing else, and both leave the same roles,
schemas and grants (db-bootstrap twice: it must be idempotent)."""
import difflib
import glob
import os
import shutil
import subprocess
import tempfile

from .aws import bootstrap_sql
from .problems import problem

PORT = 54399
SERVICES = ("auth", "media", "analysis")
CATALOGUE_QUERY = """
    SELECT 'role ' || r.rolname || ' login=' || r.rolcanlogin || ' super=' || r.rolsuper || ' createdb=' || r.rolcreatedb
           || ' createrole=' || r.rolcreaterole || ' settings=' || coalesce((SELECT array_to_string(s.setconfig, ',')
           FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0), '')
      FROM pg_roles r WHERE r.rolname IN ('auth_service', 'media_service', 'analysis_service')
    UNION ALL
    SELECT 'schema ' || n.nspname || ' owner=' || pg_get_userbyid(n.nspowner) || ' acl=' || coalesce(
           (SELECT string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(n.nspacl) a), '')
      FROM pg_namespace n WHERE n.nspname IN ('auth', 'media', 'analysis', 'public')
    UNION ALL
    SELECT 'database acl=' || coalesce((SELECT string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(d.datacl) a), '')
      FROM pg_database d WHERE d.datname = 'ecg'
    ORDER BY 1"""


def server_binaries():
    """The newest PostgreSQL server's bin directory (Debian's postgresql), or None."""
    found = [d for d in sorted(glob.glob("/usr/lib/postgresql/*/bin")) if os.access(os.path.join(d, "initdb"), os.X_OK)]
    return found[-1] if found else None


class Failed(Exception):
    pass


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary directory, listening on a socket only; stopped and deleted on exit."""

    def __init__(self, bin_dir):
        self.bin = bin_dir

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="ecg-validate-pg.")
        os.makedirs(os.path.join(self.dir, "sock"))
        with open(os.path.join(self.dir, "pwfile"), "w") as f:
            f.write("admin-pw\n")
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
            for root, dirs, files in os.walk(self.dir):
                for name in dirs + files:
                    shutil.chown(os.path.join(root, name), "postgres")
        self._as_postgres([f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-U", "ecg_admin", f"--pwfile={self.dir}/pwfile",
                           "--auth=scram-sha-256", "-E", "UTF8"])
        self._as_postgres([f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w", "-t", "30", "-o",
                           f"-c listen_addresses='' -k {self.dir}/sock -p {PORT} -c fsync=off", "start"])
        self.sql("ecg_admin", "admin-pw", "postgres", "CREATE DATABASE ecg")
        return self

    def __exit__(self, *exc):
        subprocess.run(self._postgres_prefix() + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _postgres_prefix(self):
        return ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []

    def _as_postgres(self, command):
        result = subprocess.run(self._postgres_prefix() + command, capture_output=True, text=True)
        if result.returncode != 0:
            log = os.path.join(self.dir, "log")
            raise Failed(f"{os.path.basename(command[0])} failed: {result.stderr.strip()}"
                         + (f"\n{open(log).read()}" if os.path.exists(log) else ""))

    def environment(self, **extra):
        return {"PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}", "PGHOST": f"{self.dir}/sock",
                "PGPORT": str(PORT), **extra}

    def sql(self, role, password, database, statement, check=True):
        result = subprocess.run([f"{self.bin}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", f"{self.dir}/sock", "-p", str(PORT),
                                 "-U", role, "-d", database, "-At", "-c", statement],
                                capture_output=True, text=True, env=self.environment(PGPASSWORD=password))
        if check and result.returncode != 0:
            raise Failed(f"psql as {role}: {result.stderr.strip()}")
        return result.returncode == 0, result.stdout

    def run_script(self, script, **variables):
        result = subprocess.run(["sh", script], capture_output=True, text=True, env=self.environment(**variables))
        if result.returncode != 0:
            raise Failed(f"{script} failed: {result.stderr.strip()}")

    def catalogue(self):
        return self.sql("ecg_admin", "admin-pw", "ecg", CATALOGUE_QUERY)[1]

    def roles_work(self, prefix):
        """Each role logs in with its password, writes its own schema, and nothing else."""
        for schema in SERVICES:
            role, password = f"{schema}_service", f"{prefix}-{schema}"
            ok, _ = self.sql(role, password, "ecg", f"CREATE TABLE probe_{prefix} (x int); DROP TABLE {schema}.probe_{prefix};",
                             check=False)
            if not ok:
                raise Failed(f"{role} cannot create a table in its schema {schema} (password or search_path wrong)")
            for other in ("public",) + SERVICES:
                if other != schema and self.sql(role, password, "ecg", f"CREATE TABLE {other}.intruder (x int)", check=False)[0]:
                    raise Failed(f"{role} can create tables in schema {other}")


def check_postgres_scripts(bin_dir, roles_script, data_yaml):
    try:
        with ThrowawayCluster(bin_dir) as pg:
            # 1. compose/postgres/10-ecg-roles.sh, as the postgres image runs it.
            pg.run_script(roles_script, POSTGRES_USER="ecg_admin", POSTGRES_DB="ecg", PGPASSWORD="admin-pw",
                          **{f"{s.upper()}_DB_PASSWORD": f"compose-{s}" for s in SERVICES})
            pg.roles_work("compose")
            compose_state = pg.catalogue()
            # 2. infra/aws db-bootstrap, on the same database reset to PostgreSQL's defaults, twice.
            pg.sql("ecg_admin", "admin-pw", "ecg", """
                DROP OWNED BY auth_service, media_service, analysis_service CASCADE;
                DROP ROLE auth_service; DROP ROLE media_service; DROP ROLE analysis_service;
                GRANT CONNECT, TEMPORARY ON DATABASE ecg TO PUBLIC;""")
            script = os.path.join(pg.dir, "bootstrap.sh")
            with open(script, "w") as f:
                f.write(bootstrap_sql(data_yaml))
            states = []
            for _ in range(2):
                pg.run_script(script, PGUSER="ecg_admin", PGPASSWORD="admin-pw", PGDATABASE="ecg", PGSSLMODE="disable",
                              **{f"{s.upper()}_DB_PASSWORD": f"aws-{s}" for s in SERVICES})
                states.append(pg.catalogue())
            pg.roles_work("aws")
            if states[0] != states[1]:
                problem("db-bootstrap is not idempotent:\n" + diff(states[0], states[1]))
            elif compose_state != states[0]:
                problem("compose init script and AWS db-bootstrap leave different roles/schemas:\n" + diff(compose_state, states[0]))
    except Failed as failure:
        problem(str(failure))


def diff(a, b):
    return "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0))
