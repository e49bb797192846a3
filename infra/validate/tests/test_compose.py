"""compose/docker-compose.yml: each check rejects a copy broken in one way."""
import os

from ecg_validate import compose, tools

from tests.support import BrokenCopies, at, settings


def check(path, env_example=None, with_settings=None):
    base = os.path.dirname(path)
    return (compose.check_compose, path, env_example or os.path.join(base, ".env.example"),
            os.path.join(base, "nginx", "upstreams.conf"), at("Dockerfile"), with_settings or settings())


class ComposeTests(BrokenCopies):
    def test_unbroken_copy_passes(self):
        self.assertPasses(*check(self.compose_copy(lambda doc: None)))

    def test_depends_on_undefined_service(self):
        path = self.compose_copy(lambda d: d["services"]["gateway"]["depends_on"].update(
            {"billing-service": {"condition": "service_healthy"}}))
        self.assertRejects("billing-service, which does not exist", *check(path))

    def test_service_without_a_variable_it_requires(self):
        path = self.compose_copy(lambda d: d["services"]["media-service"]["environment"].pop("DATABASE_URL"))
        self.assertRejects("media-service: DATABASE_URL is not set", *check(path))

    def test_variable_required_by_the_code_is_read_from_print_settings(self):
        def new_requirement(reports):
            reports["analysis-service"]["variables"].append(
                {"name": "NEW_REQUIRED_SETTING", "requiredInProduction": True, "secret": False})
        self.assertRejects("analysis-service: NEW_REQUIRED_SETTING is not set",
                           *check(self.compose_copy(lambda d: None), with_settings=settings(new_requirement)))

    def test_variable_the_service_does_not_read(self):
        path = self.compose_copy(lambda d: d["services"]["auth-service"]["environment"].update({"ACCESS_TOKEN_TTL": "60"}))
        self.assertRejects("auth-service: ACCESS_TOKEN_TTL is set, but auth-service does not read it", *check(path))

    def test_port_the_service_does_not_listen_on(self):
        path = self.compose_copy(lambda d: d["services"]["analysis-service"]["environment"].update({"PORT": 9999}))
        self.assertRejects("analysis-service: PORT must be 8083", *check(path))

    def test_port_comes_from_print_settings(self):
        def moved(reports):
            reports["media-service"]["port"] = 9082
        self.assertRejects("media-service: PORT must be 9082", *check(self.compose_copy(lambda d: None), with_settings=settings(moved)))

    def test_topic_variable_naming_another_topic(self):
        path = self.compose_copy(lambda d: d["services"]["caption-worker"]["environment"].update(
            {"TOPIC_ANALYSIS_EVENTS": "ecg.analysis.other"}))
        self.assertRejects("TOPIC_ANALYSIS_EVENTS=ecg.analysis.other is not ecg.analysis.events", *check(path))

    def test_kafka_init_missing_a_topic_a_service_uses(self):
        def drop(d):
            env = d["services"]["kafka-init"]["environment"]
            env["ECG_TOPICS"] = env["ECG_TOPICS"].replace("ecg.media.events.dlq", "")
        self.assertRejects("kafka-init must create the topics the services use", *check(self.compose_copy(drop)))

    def test_trusted_services_naming_a_host_that_is_not_the_issuer(self):
        def wrong(d):
            env = d["services"]["auth-service"]["environment"]
            env["TRUSTED_SERVICES"] = env["TRUSTED_SERVICES"].replace("media-service:8082", "media:8082")
        self.assertRejects("TRUSTED_SERVICES media-service=", *check(self.compose_copy(wrong)))

    def test_waits_for_health_of_a_service_without_healthcheck(self):
        path = self.compose_copy(lambda d: d["services"]["gateway"]["depends_on"].update(
            {"kafka-init": {"condition": "service_healthy"}}))
        self.assertRejects("kafka-init has no healthcheck", *check(path))

    def test_variable_that_env_example_does_not_set(self):
        path = self.compose_copy(lambda d: d["services"]["caption-worker"]["environment"].update({"LOG_LEVEL": "${WORKER_LOG_LEVEL}"}))
        self.assertRejects("WORKER_LOG_LEVEL", *check(path))

    def test_removed_analysis_service_worker(self):
        def old(d):
            w = d["services"]["caption-worker"]
            w["build"]["args"]["PRODUCT"] = "analysis-service"
            w["image"] = "ecg-backend/analysis-service:dev"
            w["command"] = ["worker"]
        self.assertRejects("analysis-service worker. no longer exists", *check(self.compose_copy(old)))

    def test_worker_given_a_database_url(self):
        path = self.compose_copy(lambda d: d["services"]["caption-worker"]["environment"].update(
            {"DATABASE_URL": d["services"]["analysis-service"]["environment"]["DATABASE_URL"]}))
        self.assertRejects("caption-worker: DATABASE_URL is set, but caption-worker does not read it", *check(path))

    def test_image_from_a_repository_that_no_longer_exists(self):
        path = self.compose_copy(lambda d: d["services"]["s3"].update({"image": "minio/minio:RELEASE.2025-09-07T16-13-09Z"}))
        self.assertRejects("repository that no longer exists", *check(path))

    def test_needs_a_dot_env(self):
        path = self.compose_copy(lambda d: d["services"]["postgres"]["environment"].update(
            {"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:?set it in .env}"}))
        self.assertRejects(r"POSTGRES_PASSWORD. is required", *check(path, env_example=os.devnull))

    def test_s3_allowing_cors_from_every_origin(self):
        path = self.compose_copy(lambda d: d["services"]["s3"]["environment"].update({"FRONTEND_ORIGIN": "*"}))
        self.assertRejects("must allow CORS from the frontend origin only", *check(path))

    def test_schema(self):
        def bad(d):
            d["services"]["kafka"]["healthcheck"]["retries"] = "many"
            d["services"]["kafka"]["restart_policy"] = "always"
        self.assertRejects("retries|restart_policy", tools.compose_schema, self.compose_copy(bad))
