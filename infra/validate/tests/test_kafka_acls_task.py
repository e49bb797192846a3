"""The kafka-acls task's script (data.yaml) against a stand-in kafka-acls.sh: it adds the wanted ACLs and
removes every other ACL of the users it manages, and a second run changes nothing."""
import json
import os
import subprocess

from ecg_validate.cd_steps import acl_line
from ecg_validate.cfn import load_cfn

from tests.support import BrokenCopies, at

FAKE = os.path.join(os.path.dirname(__file__), "fake_kafka_acls.sh")


def task_script(data_yaml):
    td = load_cfn(data_yaml)["Resources"]["KafkaAclsTaskDefinition"]["Properties"]
    return td["ContainerDefinitions"][0]["Command"][0]


class KafkaAclsTaskTests(BrokenCopies):
    def run_task(self, script, state):
        acls = json.load(open(at("infra", "aws", "kafka-acls.json")))["acls"]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": self.dir, "FAKE_ACLS": state,
               "KAFKA_ACLS_BIN": FAKE, "KAFKA_BROKERS": "b-1:9096", "KAFKA_ADMIN_USERNAME": "kafka-admin",
               "KAFKA_ADMIN_PASSWORD": "pw", "ECG_KAFKA_ACLS": "\n".join(acl_line(a) for a in acls)}
        result = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        wanted = {" ".join([a["principal"], a["operation"].lower(), a["resourceType"].lower(), a["patternType"].lower(),
                            a["resourceName"]]) for a in acls}
        return result.stdout, wanted, set(open(state).read().split("\n")) - {""}

    def test_adds_the_wanted_acls_and_removes_stale_ones(self):
        state = os.path.join(self.dir, "acls")
        stale = ["User:ml-worker read topic literal ecg.auth.events", "User:media-service write topic literal ecg.analysis.events"]
        other = "User:someone-else read topic literal ecg.auth.events"
        open(state, "w").write("\n".join(stale + [other]) + "\n")
        output, wanted, have = self.run_task(task_script(at("infra", "aws", "data.yaml")), state)
        self.assertEqual(have, wanted | {other})  # users it does not manage are left alone
        self.assertIn("removing User:ml-worker read topic literal ecg.auth.events", output)
        _, _, again = self.run_task(task_script(at("infra", "aws", "data.yaml")), state)
        self.assertEqual(again, have)

    def test_a_script_that_does_not_remove_stale_acls_is_caught(self):
        data = self.replaced("infra/aws/data.yaml", "acls --remove --force", "true --remove --force")
        state = os.path.join(self.dir, "acls")
        open(state, "w").write("User:ml-worker read topic literal ecg.auth.events\n")
        _, wanted, have = self.run_task(task_script(data), state)
        self.assertNotEqual(have, wanted)
