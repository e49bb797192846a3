"""The services' settings as their executables print them (`<product> print-settings --json`).

Each report: {"service", "port" (absent for the worker), "variables": [{"name", "productionDefault",
"developmentDefault", "requiredInProduction", "secret"}], "kafka": {"produces", "consumes", "groups":
[{"name", "match": "literal"|"prefixed"}]}}."""
import json
import os
import subprocess

from .products import IMAGES


class SettingsUnavailable(Exception):
    pass


def bin_dir(root):
    """Where the built executables are: $ECG_BIN_DIR, $BIN_DIR (infra/local/env.sh), else .build/debug."""
    return os.environ.get("ECG_BIN_DIR") or os.environ.get("BIN_DIR") or os.path.join(root, ".build", "debug")


def load_reports(directory, products=IMAGES):
    """{product: report} from `<directory>/<product> print-settings --json`."""
    reports = {}
    for product in products:
        executable = os.path.join(directory, product)
        if not os.access(executable, os.X_OK):
            raise SettingsUnavailable(f"{executable} is not built (swift build --product {product})")
        result = subprocess.run([executable, "print-settings", "--json"], capture_output=True, text=True, timeout=60,
                                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        if result.returncode != 0:
            raise SettingsUnavailable(f"{product} print-settings failed ({result.returncode}): {result.stderr.strip()}")
        reports[product] = json.loads(result.stdout)
    return reports


class Settings:
    """Questions the checks ask of the reports."""

    def __init__(self, reports):
        self.reports = reports

    def variables(self, product):
        return {v["name"]: v for v in self.reports[product]["variables"]}

    def reads(self, product):
        return set(self.variables(product))

    def required_in_production(self, product):
        return sorted(n for n, v in self.variables(product).items() if v.get("requiredInProduction"))

    def port(self, product):
        return self.reports[product].get("port")

    def ports(self):
        return {p: r["port"] for p, r in self.reports.items() if r.get("port")}

    def topic_variables(self, product):
        """{TOPIC_* variable: its default topic}."""
        return {n: v.get("productionDefault") for n, v in self.variables(product).items() if n.startswith("TOPIC_")}

    def kafka(self, product):
        return self.reports[product]["kafka"]

    def topics(self):
        """Every topic any product writes or reads."""
        return sorted({t for r in self.reports.values() for t in r["kafka"]["produces"] + r["kafka"]["consumes"]})

    def secret_without_default(self, product):
        """Secrets that have no default (credentials, keys): in ECS they must come from Secrets Manager."""
        return sorted(n for n, v in self.variables(product).items()
                      if v.get("secret") and v.get("productionDefault") is None)
