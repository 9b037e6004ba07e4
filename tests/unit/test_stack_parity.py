"""compose.yaml (Docker mode), host mode (tools/stack.py) and template.yaml declare the same functions
the same way. Adding a function = its folder + its template entry + its compose service; forgetting
one of the three fails here."""

import os
from pathlib import Path

import yaml

from lambda_local.template import load
from tools.stack import DB_PORT, LAMBDA_PORT, MOTO_PORT, ROOT, function_env, read_env_file

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
FUNCTIONS = load().functions
HOST_ONLY = {"PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH", "LAMBDA_TASK_ROOT"}  # the base image sets the last
# Set only locally: the local endpoints and dummy credentials (Lambda sets region and name itself).
LOCAL_ONLY = {
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_TIMEOUT",
    "AWS_ENDPOINT_URL_LAMBDA",
    "IMAGE_UPLOAD_BUCKET",
    "WEATHER_SITE_BUCKET",
    "PUSH_APPLICATION_NAME",
    "FAILED_INVOCATIONS_QUEUE",
    "POWERTOOLS_LOGGER_LOG_EVENT",
    "POWERTOOLS_TRACE_DISABLED",
}


def function_services() -> set[str]:
    return {name for name, service in SERVICES.items() if "FUNCTION" in service.get("build", {}).get("args", {})}


def test_every_function_folder_template_entry_and_compose_service_match():
    folders = {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file()}
    in_template = {fn.directory for fn in FUNCTIONS}
    assert folders == in_template, "a function folder without a template entry, or the reverse"
    assert function_services() == in_template, "a template function without a compose service, or the reverse"


def test_each_compose_service_builds_and_publishes_what_the_template_says():
    for fn in FUNCTIONS:
        service = SERVICES[fn.directory]
        assert "ports" not in service, "function containers are reached through the lambda service's queue"
        assert f"127.0.0.1:{fn.port}:{fn.port}" in SERVICES["lambda"]["ports"]
        assert service["restart"] == "unless-stopped"
        assert service["build"]["dockerfile"] == fn.dockerfile
        assert service["build"]["context"] == fn.metadata["DockerContext"]
        assert service["build"]["args"] == fn.build_args
        assert service["command"] == [fn.handler]
        assert (ROOT / "functions" / fn.directory / f"{fn.handler.split('.')[0]}.py").is_file()


def test_every_template_variable_is_set_locally_in_both_modes_and_nothing_else_but_local_ones():
    local_env = read_env_file(ROOT / "local.env")
    template_keys = set().union(*(fn.environment.keys() for fn in FUNCTIONS))
    for fn in FUNCTIONS:
        service = SERVICES[fn.directory]
        assert service["env_file"] == "local.env"
        compose_env = local_env | service["environment"]
        host_env = function_env(fn)
        assert fn.environment.keys() <= compose_env.keys(), f"{fn.directory}: compose misses a template variable"
        assert fn.environment.keys() <= host_env.keys(), f"{fn.directory}: host mode misses a template variable"
        assert compose_env.keys() == host_env.keys() - HOST_ONLY
        assert compose_env.keys() - template_keys <= LOCAL_ONLY, "a local variable the template does not declare"
        assert compose_env["AWS_LAMBDA_FUNCTION_NAME"] == host_env["AWS_LAMBDA_FUNCTION_NAME"] == fn.lambda_name
        assert compose_env["AWS_ENDPOINT_URL_LAMBDA"] == f"http://lambda:{LAMBDA_PORT}"
        assert host_env["AWS_ENDPOINT_URL_LAMBDA"] == f"http://127.0.0.1:{LAMBDA_PORT}"
        assert compose_env["AWS_ENDPOINT_URL"].endswith(f":{MOTO_PORT}")


def test_literal_template_settings_memory_and_timeout_are_the_same_locally():
    local_env = read_env_file(ROOT / "local.env")
    for fn in FUNCTIONS:
        compose_env = local_env | SERVICES[fn.directory]["environment"]
        host_env = function_env(fn)
        for key, value in fn.environment.items():
            if isinstance(value, str):
                assert compose_env[key] == host_env[key] == value, f"{fn.directory}: {key} is {value!r} in the template"
        assert compose_env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == host_env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        assert host_env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(fn.memory_mb)
        assert (
            compose_env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == host_env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == str(fn.timeout_s)
        )


def test_function_containers_are_shaped_like_the_lambda_sandbox_the_template_declares():
    for fn in FUNCTIONS:
        service = SERVICES[fn.directory]
        assert service["read_only"] is True, f"{fn.directory}: Lambda's root file system is read-only"
        assert service["tmpfs"] == [f"/tmp:size={fn.ephemeral_mb}m"], f"{fn.directory}: /tmp is EphemeralStorage"
        uid, _, gid = str(service["user"]).partition(":")
        assert int(uid) != 0 and int(gid) != 0, f"{fn.directory}: Lambda runs the function as a non-root user"
        assert service["mem_limit"] == service["memswap_limit"] == f"{fn.memory_mb}m", f"{fn.directory}: MemorySize"
        assert "volumes" not in service, f"{fn.directory}: nothing but /tmp is writable in Lambda"


def test_events_are_logged_locally_and_never_in_the_account():
    assert read_env_file(ROOT / "local.env")["POWERTOOLS_LOGGER_LOG_EVENT"] == "true"
    for fn in FUNCTIONS:
        assert "POWERTOOLS_LOGGER_LOG_EVENT" not in fn.environment, f"{fn.directory} would log whole events in AWS"
        assert "POWERTOOLS_LOGGER_LOG_EVENT" in function_env(fn)


def test_tracing_is_off_locally_and_on_in_the_account():
    assert read_env_file(ROOT / "local.env")["POWERTOOLS_TRACE_DISABLED"] == "true"
    for fn in FUNCTIONS:
        assert "POWERTOOLS_TRACE_DISABLED" not in fn.environment, f"{fn.directory} would not trace in AWS"
        assert function_env(fn)["POWERTOOLS_TRACE_DISABLED"] == "true"
        assert function_env(fn)["LAMBDA_TASK_ROOT"] == str(ROOT / "functions" / fn.directory)
        source = (ROOT / "functions" / fn.directory / "app.py").read_text()
        assert "@tracer.capture_lambda_handler" in source, f"{fn.directory}: the handler has no X-Ray subsegment"


def test_local_names_of_the_template_match_local_env():
    local_env = read_env_file(ROOT / "local.env")
    names = load().data["Metadata"]["LocalNames"]
    assert local_env["IMAGE_UPLOAD_BUCKET"] == names["UploadsBucket"]
    assert local_env["IMAGE_DESTINATION_BUCKET"] == names["RenditionsBucket"]
    assert local_env["LABELS_RESULTS_BUCKET"] == names["LabelsBucket"]
    assert local_env["TOPIC_ARN"].rsplit(":", 1)[1] == names["ReportTopic"]
    assert local_env["FAILED_INVOCATIONS_QUEUE"] == names["FailedInvocationsQueue"]


def test_backing_services_publish_the_host_mode_ports_and_seed_sql():
    assert SERVICES["db"]["ports"] == [f"127.0.0.1:{DB_PORT}:3306"]
    assert SERVICES["aws"]["ports"] == [f"127.0.0.1:{MOTO_PORT}:{MOTO_PORT}"]
    assert "./images/db/initdb:/docker-entrypoint-initdb.d:ro" in SERVICES["db"]["volumes"]
    assert SERVICES["aws-init"]["environment"]["DB_URL"] == "db:3306"
    assert f"127.0.0.1:{LAMBDA_PORT}:{LAMBDA_PORT}" in SERVICES["lambda"]["ports"]
    assert SERVICES["lambda"]["environment"]["LAMBDA_LOCAL_MODE"] == "docker"


def test_sample_events_exist_for_every_function():
    for fn in FUNCTIONS:
        events = list(Path(ROOT / "events" / fn.directory).glob("*.json"))
        assert events, f"no sample events under events/{fn.directory}/"


def test_init_scripts_that_use_the_entrypoints_functions_are_sourced_not_run():
    # The mariadb image runs an executable *.sh as its own process, where docker_process_sql is undefined.
    for script in (ROOT / "images" / "db" / "initdb").glob("*.sh"):
        if "docker_process_sql" in script.read_text():
            assert not os.access(script, os.X_OK), f"{script.name} must not be executable (it is sourced)"
