"""The local stack: every function behind the real Lambda runtime interface emulator (RIE), MariaDB
and the moto server as the local AWS endpoint, in one of two modes chosen once (`mode()`):

- Docker mode (an engine with Compose answers): compose.yaml (stack/docker_mode.py);
- host mode: the same parts as processes on the same ports (stack/host_mode.py, Linux).

`STACK_MODE=host|docker` forces a mode. Both implement `Stack`; stack/control.py acts on the
current one; this package's face names what tools and tests use.

    python -m tools.stack up | down | status | logs [SERVICE] | events | invoke FUNCTION EVENT_FILE
                          | fire RULE [AT] | token SUB [CLAIMS_JSON] [AUTHORIZER]
"""

from lambda_local.environments.variables import read_env_file
from stack.common import (
    API_PORT,
    AWS_ENDPOINT,
    DB_PORT,
    LAMBDA_ENDPOINT,
    LAMBDA_PORT,
    MOTO_PORT,
    ROOT,
    STATE,
    VENV_BIN,
    backing_ports,
    function_env,
    log,
    plane_ports,
    port_holder,
    port_open,
    preflight,
    wait_for_plane,
)
from stack.control import (
    Stack,
    compose_available,
    current,
    db_connection,
    docker_engine_available,
    down,
    environments_lines,
    failed_events_line,
    fire,
    invoke,
    invoke_function,
    mode,
    probe,
    read_logs,
    restart_function,
    stack_is_up,
    start_service,
    status,
    stop_service,
    up,
)
from stack.functions import (
    INVOKE_PATH,
    Function,
    by_name,
    functions,
)
from stack.host_mode import (
    plane_env,
    service_pid,
    start_function,
    stop,
)

__all__ = [
    "read_env_file",
    "API_PORT",
    "AWS_ENDPOINT",
    "backing_ports",
    "by_name",
    "compose_available",
    "current",
    "db_connection",
    "DB_PORT",
    "docker_engine_available",
    "down",
    "environments_lines",
    "failed_events_line",
    "fire",
    "Function",
    "function_env",
    "functions",
    "invoke",
    "invoke_function",
    "INVOKE_PATH",
    "LAMBDA_ENDPOINT",
    "LAMBDA_PORT",
    "log",
    "mode",
    "MOTO_PORT",
    "plane_env",
    "plane_ports",
    "port_holder",
    "port_open",
    "preflight",
    "probe",
    "read_logs",
    "restart_function",
    "ROOT",
    "service_pid",
    "Stack",
    "stack_is_up",
    "start_function",
    "start_service",
    "STATE",
    "status",
    "stop",
    "stop_service",
    "up",
    "VENV_BIN",
    "wait_for_plane",
]
