"""routes.conf and the ALB rules: each check rejects a copy broken in one way."""
from ecg_validate import nginx, routing

from tests.support import BrokenCopies, at


class RoutingTests(BrokenCopies):
    def test_unbroken_files_pass(self):
        self.assertPasses(routing.check_routes, at("compose", "nginx", "routes.conf"), at("infra", "aws", "services.yaml"))

    def test_alb_rule_wider_than_the_gateway(self):
        path = self.replaced("infra/aws/services.yaml", 'Values: ["/api/v1/ml/*"]', 'Values: ["/api/v1/*"]')
        self.assertRejects(r"gateway \(routes.conf\) -> 404, ALB listener rules -> analysis",
                           routing.check_routes, at("compose", "nginx", "routes.conf"), path)

    def test_alb_deny_rule_that_lets_metrics_through(self):
        path = self.replaced("infra/aws/services.yaml", 'Values: ["/metrics*"]', 'Values: ["/metrics"]')
        self.assertRejects("no ALB rule denies /metrics/x", routing.check_routes, at("compose", "nginx", "routes.conf"), path)

    def test_gateway_route_against_spec(self):
        path = self.replaced("compose/nginx/routes.conf", "location = /api/test", "location = /api/test-renamed")
        self.assertRejects("routes.conf sends /api/test to", routing.check_routes, path, at("infra", "aws", "services.yaml"))

    def test_nginx_syntax_error(self):
        if not nginx.nginx_available():
            self.skipTest("nginx is not installed")
        import os
        import shutil
        copy = os.path.join(self.dir, "nginx")
        shutil.copytree(at("compose", "nginx"), copy)
        text = open(os.path.join(copy, "routes.conf")).read()
        open(os.path.join(copy, "routes.conf"), "w").write(
            text.replace("proxy_pass http://auth_service;", "proxy_pass http://auth_service", 1))
        self.assertRejects("emerg", nginx.nginx_test, copy)

    def test_local_stack_with_other_routes(self):
        path = self.replaced("infra/local/stack.sh", "include $ECG_ROOT/compose/nginx/routes.conf;", "include /etc/other.conf;")
        self.assertRejects("no longer includes compose/nginx/routes.conf", nginx.same_routes_as_local_stack, path)
