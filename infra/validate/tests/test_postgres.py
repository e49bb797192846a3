"""The PostgreSQL init script and db-bootstrap: each check rejects a copy broken in one way."""
from ecg_validate import postgres

from tests.support import BrokenCopies, at

PG_BIN = postgres.server_binaries()


class PostgresTests(BrokenCopies):
    def setUp(self):
        super().setUp()
        if not PG_BIN:
            self.skipTest("no PostgreSQL server binaries")

    def test_roles_script_without_a_search_path(self):
        script = self.replaced("compose/postgres/10-ecg-roles.sh", r"^.*ALTER ROLE media_service    SET search_path.*\n", "", regex=True)
        self.assertRejects("cannot create a table in its schema media", postgres.check_postgres_scripts, PG_BIN, script,
                           at("infra", "aws", "data.yaml"))

    def test_db_bootstrap_differing_from_the_compose_script(self):
        data = self.replaced("infra/aws/data.yaml", "REVOKE ALL ON SCHEMA analysis FROM PUBLIC;", "-- (revoke dropped)")
        self.assertRejects("leave different roles/schemas", postgres.check_postgres_scripts, PG_BIN,
                           at("compose", "postgres", "10-ecg-roles.sh"), data)
