"""Docker mode (compose.yaml) and host mode (tools/stack.py) run the same functions the same way."""

from pathlib import Path

import yaml

from tools.functions import DOCKERFILE, FUNCTIONS
from tools.stack import DB_PORT, MOTO_PORT, ROOT, function_env, read_env_file

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
HOST_ONLY = {"PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH"}


def endpoint_names(value: str) -> set[str]:
    return {item.split("=", 1)[0] for item in value.split(",")}


def test_every_function_is_a_compose_service_with_the_same_port_image_and_handler():
    assert {fn.directory for fn in FUNCTIONS} <= SERVICES.keys()
    for fn in FUNCTIONS:
        service = SERVICES[fn.directory]
        assert service["ports"] == [f"127.0.0.1:{fn.port}:8080"]
        assert service["build"]["dockerfile"] == DOCKERFILE
        assert service["build"]["args"] == {"FUNCTION": fn.directory}
        assert service["command"] == [fn.handler]
        assert (ROOT / "functions" / fn.directory / f"{fn.handler.split('.')[0]}.py").is_file()


def test_function_environment_has_the_same_keys_and_names_in_both_modes():
    local_env = read_env_file(ROOT / "local.env")
    for fn in FUNCTIONS:
        service = SERVICES[fn.directory]
        assert service["env_file"] == "local.env"
        compose_env = local_env | service["environment"]
        host_env = function_env(fn)
        assert compose_env.keys() == host_env.keys() - HOST_ONLY
        assert compose_env["AWS_LAMBDA_FUNCTION_NAME"] == host_env["AWS_LAMBDA_FUNCTION_NAME"] == fn.lambda_name
        assert endpoint_names(compose_env["LOCAL_LAMBDA_ENDPOINTS"]) == endpoint_names(
            host_env["LOCAL_LAMBDA_ENDPOINTS"]
        )
        assert compose_env["AWS_ENDPOINT_URL"].endswith(f":{MOTO_PORT}")


def test_compose_routes_lambda_names_to_the_function_services():
    for fn in FUNCTIONS:
        mapping = dict(
            item.split("=", 1) for item in SERVICES[fn.directory]["environment"]["LOCAL_LAMBDA_ENDPOINTS"].split(",")
        )
        for target in FUNCTIONS:
            assert mapping[target.lambda_name] == f"http://{target.directory}:8080"


def test_backing_services_publish_the_host_mode_ports_and_seed_sql():
    assert SERVICES["db"]["ports"] == [f"127.0.0.1:{DB_PORT}:3306"]
    assert SERVICES["aws"]["ports"] == [f"127.0.0.1:{MOTO_PORT}:{MOTO_PORT}"]
    assert "./images/db/initdb:/docker-entrypoint-initdb.d:ro" in SERVICES["db"]["volumes"]
    assert SERVICES["aws-init"]["environment"]["DB_URL"] == "db:3306"


def test_sample_events_exist_for_every_function():
    for fn in FUNCTIONS:
        events = list(Path(ROOT / "events" / fn.directory).glob("*.json"))
        assert events, f"no sample events under events/{fn.directory}/"
