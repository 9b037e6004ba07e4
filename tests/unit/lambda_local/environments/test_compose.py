"""compose.yaml's rendered part is what the template says, and both modes give a function the same
environment: adding a function to the template and running `make compose` is all Docker mode needs."""

import os
import shutil
from pathlib import Path

import pytest
import yaml

from lambda_local.environments import compose
from lambda_local.environments.sandbox import SHIM, SHIM_SOURCE
from lambda_local.environments.variables import LOCAL_ENV, read_env_file
from lambda_local.providers import ROOT, TemplateError, load, load_yaml, parse

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
TEMPLATE = load()
FUNCTIONS = TEMPLATE.functions
HOST_ONLY = {"PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH", "LAMBDA_TASK_ROOT"}  # the base image sets the last


def host_env(fn):  # type: ignore[no-untyped-def]
    from lambda_local.environments.variables import function_env

    return function_env(TEMPLATE, fn, "http://127.0.0.1:5000", "http://127.0.0.1:3001")


def test_the_committed_compose_file_is_rendered_from_the_current_template():
    current = (ROOT / "compose.yaml").read_text()
    assert compose.render(TEMPLATE, current) == current, "compose.yaml is stale: run `make compose`"


def test_a_stale_compose_file_is_told_apart(tmp_path: Path):
    data = load_yaml()
    data["Resources"]["WeatherApiFunction"]["Properties"]["MemorySize"] = 384
    changed = parse(data, ROOT / "functions")
    current = (ROOT / "compose.yaml").read_text()
    fresh = compose.render(changed, current)
    assert fresh != current
    assert "mem_limit: 384m" in fresh and fresh.count("\n  weather-api:\n") == 1
    assert compose.render(changed, fresh) == fresh  # rendering is stable
    broken = tmp_path / "compose.yaml"
    broken.write_text(current.replace(compose.BEGIN, "  # somebody edited the marker"))
    with pytest.raises(TemplateError, match="marker"):
        compose.write(changed, broken)


def test_every_function_folder_has_a_template_entry_and_a_compose_service():
    folders = {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file()}
    assert folders == {fn.directory for fn in FUNCTIONS}, "a function folder without a template entry, or the reverse"
    built = {name for name, service in SERVICES.items() if "FUNCTION" in service.get("build", {}).get("args", {})}
    assert built == folders


def test_each_service_builds_publishes_and_sandboxes_what_the_template_says():
    for fn in FUNCTIONS:
        service = SERVICES[fn.directory]
        assert "ports" not in service, "function containers are reached through the lambda service's queue"
        if fn.port is not None:
            assert f"127.0.0.1:{fn.port}:{fn.port}" in SERVICES["lambda"]["ports"]
        assert SERVICES["lambda"]["depends_on"][fn.directory] == {"condition": "service_healthy"}
        assert service["restart"] == "unless-stopped"
        assert service["build"] == {"context": ".", "dockerfile": fn.dockerfile, "args": fn.build_args}
        assert service["command"] == [fn.handler]
        assert (fn.code / f"{fn.handler.split('.')[0]}.py").is_file()
        assert service["read_only"] is True, f"{fn.directory}: Lambda's root file system is read-only"
        assert service["tmpfs"] == [f"/tmp:size={fn.ephemeral_mb}m"], f"{fn.directory}: /tmp is EphemeralStorage"
        uid, _, gid = str(service["user"]).partition(":")
        assert int(uid) != 0 and int(gid) != 0, f"{fn.directory}: Lambda runs the function as a non-root user"
        assert service["mem_limit"] == service["memswap_limit"] == f"{fn.memory_mb}m", f"{fn.directory}: MemorySize"
        # Nothing but /tmp is writable in Lambda: the one mount is the plane's runtime shim, read only, which
        # the image's RIE runs on the image's Python (its request ids and trace headers: runtime_shim.py).
        assert service["volumes"] == [f"./{SHIM_SOURCE}:{SHIM}:ro"] and (ROOT / SHIM_SOURCE).is_file()
        assert service["entrypoint"] == ["/usr/local/bin/aws-lambda-rie", "/var/lang/bin/python3", SHIM]


OTLP = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"


def test_both_modes_give_a_function_the_same_variables_with_the_same_local_values():
    local_env = read_env_file(LOCAL_ENV)
    for fn in FUNCTIONS:
        service = SERVICES[fn.directory]
        assert service["env_file"] == "local.env"
        in_compose = local_env | service["environment"]
        in_host = host_env(fn)
        assert in_compose.keys() == in_host.keys() - HOST_ONLY, fn.directory
        assert fn.environment.keys() <= in_host.keys(), f"{fn.directory}: a template variable is not set locally"
        for key, value in in_compose.items():
            if key not in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_SQS", OTLP):
                assert in_host[key] == value, f"{fn.directory}: {key} differs between the modes"
        assert in_compose["AWS_ENDPOINT_URL_LAMBDA"] == "http://lambda:3001"
        assert in_host["AWS_ENDPOINT_URL_LAMBDA"] == "http://127.0.0.1:3001"
        # SQS through the plane, which keeps a sent message's trace header (recursion.py)
        assert in_compose["AWS_ENDPOINT_URL_SQS"] == "http://lambda:3001/_local/aws/sqs"
        assert in_host["AWS_ENDPOINT_URL_SQS"] == "http://127.0.0.1:3001/_local/aws/sqs"
        # The function's spans to the plane's OTLP receiver (lambda_local/http/otlp.py)
        assert in_compose[OTLP] == "http://lambda:3001/v1/traces"
        assert in_host[OTLP] == "http://127.0.0.1:3001/v1/traces"
        assert in_host["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(fn.memory_mb)
        assert in_host["AWS_LAMBDA_FUNCTION_TIMEOUT"] == str(fn.timeout_s)


def test_resource_variables_carry_the_local_names_and_arns():
    env = host_env(TEMPLATE.function("salesAnalysisReport"))
    assert env["TOPIC_ARN"] == f"arn:aws:sns:us-east-1:123456789012:{TEMPLATE.names['ReportTopic']}"
    assert env["EXTRACTOR_FUNCTION_NAME"] == "salesAnalysisReportDataExtractor"
    assert host_env(TEMPLATE.function("imageResize"))["IMAGE_DESTINATION_BUCKET"] == TEMPLATE.names["RenditionsBucket"]
    assert host_env(TEMPLATE.function("weatherApi"))["SITE_ORIGIN"] == "http://127.0.0.1:5000"


def test_local_env_holds_only_what_is_local():
    """Resource names and literal settings come from the template; local.env keeps the local switches."""
    assert set(read_env_file(LOCAL_ENV)) == {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "POWERTOOLS_LOGGER_LOG_EVENT",
    }


def test_events_are_logged_locally_and_never_so_in_the_account_and_every_handler_is_traced():
    assert read_env_file(LOCAL_ENV)["POWERTOOLS_LOGGER_LOG_EVENT"] == "true"
    for fn in FUNCTIONS:
        assert "POWERTOOLS_LOGGER_LOG_EVENT" not in fn.environment, f"{fn.directory} would log whole events in AWS"
        assert "OTEL_SDK_DISABLED" not in fn.environment, f"{fn.directory} would not trace in AWS"
        assert host_env(fn)["LAMBDA_TASK_ROOT"] == str(ROOT / "functions" / fn.directory)
        source = (fn.code / "app.py").read_text()
        assert "@tracer.capture_lambda_handler" in source, f"{fn.directory}: the handler has no span"


def test_backing_services_publish_the_host_mode_ports_and_seed_sql():
    assert SERVICES["db"]["ports"] == ["127.0.0.1:3307:3306"]
    assert SERVICES["aws"]["ports"] == ["127.0.0.1:5000:5000"]
    assert "./images/db/initdb:/docker-entrypoint-initdb.d:ro" in SERVICES["db"]["volumes"]
    assert SERVICES["aws-init"]["environment"]["DB_URL"] == "db:3306"
    assert "127.0.0.1:3001:3001" in SERVICES["lambda"]["ports"]
    assert SERVICES["lambda"]["environment"]["LAMBDA_LOCAL_MODE"] == "docker"


def test_sample_events_exist_for_every_function():
    for fn in FUNCTIONS:
        assert list((ROOT / "events" / fn.directory).glob("*.json")), f"no sample events under events/{fn.directory}/"


def test_a_new_function_in_a_copy_of_the_template_gets_its_service_without_other_edits(tmp_path: Path):
    shutil.copytree(ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "functions" / "weather-api", tmp_path / "functions" / "hello")
    data = load_yaml()
    data["Resources"]["HelloFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Metadata": {"DockerBuildArgs": {"FUNCTION": "hello", "AWS_SERVICES": "s3"}},
        "Properties": {
            "PackageType": "Image",
            "FunctionName": "hello",
            "Environment": {"Variables": {"BUCKET": {"Ref": "HelloBucket"}}},
        },
    }
    data["Resources"]["HelloBucket"] = {"Type": "AWS::S3::Bucket"}
    rendered = yaml.safe_load(compose.render(parse(data, tmp_path / "functions"), (ROOT / "compose.yaml").read_text()))
    service = rendered["services"]["hello"]
    assert service["environment"]["BUCKET"] == "hello-bucket"
    assert service["environment"]["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "3"  # SAM's default
    assert "hello" in rendered["services"]["lambda"]["depends_on"]


def test_init_scripts_that_use_the_entrypoints_functions_are_sourced_not_run():
    # The mariadb image runs an executable *.sh as its own process, where docker_process_sql is undefined.
    for script in (ROOT / "images" / "db" / "initdb").glob("*.sh"):
        if "docker_process_sql" in script.read_text():
            assert not os.access(script, os.X_OK), f"{script.name} must not be executable (it is sourced)"
