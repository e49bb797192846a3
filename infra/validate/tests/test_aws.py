"""infra/aws: each check rejects a copy broken in one way."""
import re

from ecg_validate import aws, cd_steps, kafka_acls, tools

from tests.support import BrokenCopies, at, settings


def sub(pattern, replacement, count=0):
    return lambda text: re.sub(pattern, replacement, text, count=count, flags=re.M)


class AwsTests(BrokenCopies):
    def check(self, directory, with_settings=None):
        return aws.check_aws, directory, with_settings or settings(), at("Dockerfile")

    def test_unbroken_templates_pass(self):
        self.assertPasses(*self.check(at("infra", "aws")))

    def test_database_url_without_verified_tls(self):
        directory = self.aws_copy({"data.yaml": sub(r'sslmode=verify-full&sslrootcert=[^"]*"', 'sslmode=require"')})
        self.assertRejects("must use sslmode=verify-full", *self.check(directory))

    def test_signing_key_lost_on_replacement(self):
        anchor = "  UserTokenSigningKey:\n    Type: AWS::SecretsManager::Secret\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n"
        directory = self.aws_copy({"data.yaml": lambda t: t.replace(anchor, "  UserTokenSigningKey:\n    Type: AWS::SecretsManager::Secret\n")})
        self.assertRejects("UserTokenSigningKey: needs DeletionPolicy", *self.check(directory))

    def test_worker_cpu_policy_scaling_in(self):
        directory = self.aws_copy({"services.yaml": sub(r"^.*DisableScaleIn: true.*\n", "")})
        self.assertRejects("CPU policy must not scale in", *self.check(directory))

    def test_task_role_with_permissions_and_execution_role_missing_a_secret(self):
        anchor = "      Description: analysis-service calls no AWS API.\n"
        line = '                  - !ImportValue {"Fn::Sub": "${DataStackName}-MediaS3CredentialsArn"}\n'

        def edit(text):
            text = text.replace(anchor, anchor + "      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/AmazonS3FullAccess\n")
            return text.replace(line, "", 1)
        directory = self.aws_copy({"services.yaml": edit})
        self.assertRejects("analysis-service: the task role must have no permissions", *self.check(directory))
        self.assertRejects("media-service: execution role may read", *self.check(directory))

    def test_worker_task_role_beyond_task_protection_and_short_stop_timeout(self):
        def edit(text):
            text = text.replace("Action: [ecs:UpdateTaskProtection, ecs:GetTaskProtection]",
                                "Action: [ecs:UpdateTaskProtection, ecs:GetTaskProtection, s3:GetObject]")
            return text.replace("StopTimeout: 120", "StopTimeout: 30")
        directory = self.aws_copy({"services.yaml": edit})
        self.assertRejects("ml-worker: the task role must allow exactly", *self.check(directory))
        self.assertRejects("ml-worker: StopTimeout must be 115-120 s", *self.check(directory))

    def test_worker_task_protection_on_every_resource(self):
        scoped = self.aws_copy({"services.yaml": sub(r"task/\$\{EnvironmentName\}/\*", "*")})
        self.assertRejects("ml-worker: task role statement must allow only the cluster's tasks", *self.check(scoped))

    def test_worker_running_another_image(self):
        directory = self.aws_copy({"services.yaml": sub(r'-CaptionWorkerRepositoryUri"}$', '-AnalysisServiceRepositoryUri"}')})
        self.assertRejects("ml-worker: must run the caption-worker image", *self.check(directory))
        self.assertRejects("ml-worker: execution role may pull", *self.check(directory))

    def test_task_definition_without_a_variable_the_code_requires(self):
        def new_requirement(reports):
            reports["auth-service"]["variables"].append({"name": "NEW_REQUIRED_SETTING", "requiredInProduction": True, "secret": False})
        self.assertRejects("auth-service: task definition lacks NEW_REQUIRED_SETTING",
                           *self.check(at("infra", "aws"), settings(new_requirement)))

    def test_task_definition_setting_a_variable_nobody_reads(self):
        directory = self.aws_copy({"services.yaml": sub(r"^( *)- \{Name: LOG_LEVEL, Value: info\}$",
                                                        r"\g<0>\n\1- {Name: LOGLEVEL, Value: info}", count=1)})
        self.assertRejects("task definition sets LOGLEVEL, which .* does not read", *self.check(directory))

    def test_credential_in_plain_environment(self):
        directory = self.aws_copy({"services.yaml": sub(r"^( *)- \{Name: LOG_LEVEL, Value: info\}$",
                                                        r"\g<0>\n\1- {Name: S3_SESSION_TOKEN, Value: abc}", count=3)})
        self.assertRejects("S3_SESSION_TOKEN must come from Secrets Manager", *self.check(directory))

    def test_msk_topics_differ_from_what_the_services_use(self):
        directory = self.aws_copy({"data.yaml": lambda t: t.replace("TopicName: ecg.media.events.dlq", "TopicName: ecg.media.events.dead")})
        self.assertRejects("MSK topics .* differ from the topics the services use", *self.check(directory))

    def test_cfn_lint_dangling_ref(self):
        path = self.replaced("infra/aws/services.yaml", "TargetGroupArn: !Ref AuthTargetGroup\n", "TargetGroupArn: !Ref AuthTargetGroupTypo\n")
        self.assertRejects("E1020 'AuthTargetGroupTypo'", tools.cfn_lint, path)


class KafkaAclTests(BrokenCopies):
    def check(self, directory=None, acl_file=None, with_settings=None):
        directory = directory or at("infra", "aws")
        return (kafka_acls.check_kafka_acls, directory, acl_file or f"{directory}/kafka-acls.json", with_settings or settings())

    def test_unbroken_files_pass(self):
        self.assertPasses(*self.check())

    def test_everyone_allowed_without_acl(self):
        directory = self.aws_copy({"data.yaml": lambda t: t.replace("allow.everyone.if.no.acl.found=false", "allow.everyone.if.no.acl.found=true")})
        self.assertRejects("must set allow.everyone.if.no.acl.found=false", *self.check(directory))

    def test_unauthenticated_clients(self):
        directory = self.aws_copy({"data.yaml": lambda t: t.replace("        Unauthenticated:\n          Enabled: false",
                                                                     "        Unauthenticated:\n          Enabled: true")})
        self.assertRejects("must authenticate every client", *self.check(directory))

    def test_two_services_sharing_a_user(self):
        directory = self.aws_copy({"data.yaml": lambda t: t.replace('{"username": "media-service"}', '{"username": "auth-service"}')})
        self.assertRejects("SCRAM user of its own", *self.check(directory))

    def test_acl_missing_for_a_topic_a_service_uses(self):
        directory = self.aws_copy({"kafka-acls.json": lambda t: re.sub(
            r'\s*\{\s*"principal": "User:ml-worker",\s*"operation": "Write",[^}]*\},?', "", t)})
        self.assertRejects("kafka-acls.json lacks User:ml-worker Topic ecg.analysis.events Write", *self.check(directory))

    def test_acl_for_a_topic_no_service_uses(self):
        directory = self.aws_copy({"kafka-acls.json": lambda t: t.replace(
            '"resourceName": "ecg.auth.events"\n    },', '"resourceName": "ecg.auth.events"\n    },\n    {"principal": "User:ml-worker", '
            '"operation": "Read", "resourceType": "Topic", "patternType": "Literal", "resourceName": "ecg.auth.events"},', 1)})
        self.assertRejects("allows User:ml-worker Topic ecg.auth.events Read Literal, which no service uses", *self.check(directory))

    def test_service_starting_to_use_a_topic_needs_its_acl(self):
        def worker_reads_media(reports):
            reports["caption-worker"]["kafka"]["consumes"].append("ecg.media.events")
        self.assertRejects("lacks User:ml-worker Topic ecg.media.events Read", *self.check(with_settings=settings(worker_reads_media)))

    def test_cd_steps_gives_the_task_the_acl_list(self):
        steps = self.replaced("infra/aws/cd-steps.sh", "{name: \"ECG_KAFKA_ACLS\", value: $acls}",
                              "{name: \"ECG_KAFKA_ACLS\", value: \"\"}", name="cd-steps.sh")
        self.assertRejects("kafka-acls: the task is not given the ACLs", cd_steps.check_cd_steps, steps, at("infra", "aws", "kafka-acls.json"))


class CdStepsTests(BrokenCopies):
    def test_unbroken_script_passes(self):
        self.assertPasses(cd_steps.check_cd_steps, at("infra", "aws", "cd-steps.sh"), at("infra", "aws", "kafka-acls.json"))

    def test_failed_migration_stops_the_deploy(self):
        self.assertRejects(r"migrate-auth-service: task .* exited 3", cd_steps.check_cd_steps,
                           at("infra", "aws", "cd-steps.sh"), at("infra", "aws", "kafka-acls.json"), 3)

    def test_placeholder_keys_not_replaced(self):
        steps = self.replaced("infra/aws/cd-steps.sh", r"^PLACEHOLDER=.*$", 'PLACEHOLDER="something-else"', regex=True)
        self.assertRejects("not replaced|must replace", cd_steps.check_cd_steps, steps, at("infra", "aws", "kafka-acls.json"))
