"""The CD workflow and the dependency pins: each check rejects a copy broken in one way."""
from ecg_validate import pins, tools, workflows

from tests.support import BrokenCopies, at

CI = at(".github", "workflows", "ci.yml")


def move_block(text, start, end, before):
    """text with text[start:end] moved in front of `before`."""
    a, b = text.index(start), text.index(end)
    block = text[a:b]
    text = text[:a] + text[b:]
    return text.replace(before, block + before)


class WorkflowTests(BrokenCopies):
    def test_unbroken_workflows_pass(self):
        self.assertPasses(workflows.check_cd, at(".github", "workflows", "cd.yml"), CI)

    def test_deploying_the_default_branch_head(self):
        path = self.replaced(".github/workflows/cd.yml", 'AuthServiceImageTag="$TAG"', "AuthServiceImageTag=${{ github.sha }}")
        self.assertRejects("github.sha .* used outside", workflows.check_cd, path, CI)

    def test_triggered_by_pull_requests(self):
        path = self.replaced(".github/workflows/cd.yml", r"^.*github.event.workflow_run.event == 'push'.*\n", "", regex=True)
        self.assertRejects("workflow_run.event == 'push'", workflows.check_cd, path, CI)

    def test_without_concurrency_group(self):
        path = self.edited(".github/workflows/cd.yml",
                           lambda t: t[:t.index("concurrency:")] + t[t.index("\n\n", t.index("concurrency:")) + 2:])
        self.assertRejects("concurrency group", workflows.check_cd, path, CI)

    def test_migrating_after_the_rollout(self):
        path = self.edited(".github/workflows/cd.yml", lambda t: move_block(
            t, "      - name: Migrations with the new image", "      - name: Roll the services stack",
            "      - name: Wait until every service is stable"))
        self.assertRejects("order must be", workflows.check_cd, path, CI)

    def test_kafka_acls_after_the_rollout(self):
        path = self.edited(".github/workflows/cd.yml", lambda t: move_block(
            t, "      - name: Kafka ACLs", "      - name: Migrations with the new image",
            "      - name: Wait until every service is stable"))
        self.assertRejects("order must be", workflows.check_cd, path, CI)

    def test_workflow_schema(self):
        path = self.replaced(".github/workflows/cd.yml", "runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04")
        self.assertRejects("runs_on|runs-on", tools.workflow_schema, path)


class PinTests(BrokenCopies):
    def test_unbroken_pins_pass(self):
        self.assertPasses(pins.check_pins, at("Package.swift"), at("Package.pins"), None)

    def test_version_range(self):
        path = self.replaced("Package.swift", 'vapor/postgres-nio", exact:', 'vapor/postgres-nio", from:')
        self.assertRejects(r"postgres-nio is .from: ", pins.check_pins, path, at("Package.pins"), None)

    def test_pins_differing_from_this_machines_resolution(self):
        import os
        if not os.path.exists(at("Package.resolved")):
            self.skipTest("no Package.resolved")
        path = self.replaced("Package.pins", r"^swift-nio .*$", "swift-nio 0.0.1", regex=True)
        self.assertRejects("differs from Package.pins", pins.check_pins, at("Package.swift"), path, at("Package.resolved"))
