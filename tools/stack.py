"""The local stack: every function behind the real Lambda runtime interface emulator (RIE), MariaDB
and the moto server as the local AWS endpoint.

Docker mode (an engine answers) drives compose.yaml. Host mode runs the same parts as processes:
`aws-lambda-rie ... python -m awslambdaric app.handler` per function on the same ports as compose,
a private `mariadbd` seeded with the same SQL files, and `moto_server`. State, data and logs live in
`.stack/`. `STACK_MODE=host|docker` forces a mode.

    python -m tools.stack up | down | status | logs [SERVICE] | events | invoke FUNCTION EVENT_FILE
                          | fire RULE [AT]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambda_local import environment
from lambda_local.api_gateway import routes_of, template_token
from lambda_local.environment import read_env_file
from lambda_local.template import TemplateError, load
from tools.functions import FUNCTIONS, INVOKE_PATH, Function, by_name

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".stack"
VENV_BIN = Path(sys.executable).parent
MOTO_PORT = 5000
DB_PORT = 3307
LAMBDA_PORT = 3001
API_PORT = 3000  # API Gateway, served by the plane when the template declares Api / HttpApi events
AWS_ENDPOINT = f"http://127.0.0.1:{MOTO_PORT}"
LAMBDA_ENDPOINT = f"http://127.0.0.1:{LAMBDA_PORT}"
SEED_SQL = sorted((ROOT / "images" / "db" / "initdb").glob("*.sql"))
WAREHOUSE_SQL = ROOT / "images" / "db" / "initdb" / "03-warehouse.sql"
# The RIE's internal Runtime API defaults to 127.0.0.1:9001, which is a function port here.
RUNTIME_API_OFFSET = 10000


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def function_env(fn: Function, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a function's runtime in host mode (compose.yaml sets the same keys)."""
    return environment.function_env(fn, AWS_ENDPOINT, LAMBDA_ENDPOINT, overrides)


def plane_env() -> dict[str, str]:
    """The local plane's own environment: the local AWS endpoint and its dummy credentials."""
    env = {k: os.environ[k] for k in environment.PASSED_THROUGH if k in os.environ}
    return (
        env
        | read_env_file(ROOT / "local.env")
        | {
            "AWS_ENDPOINT_URL": AWS_ENDPOINT,
            "LAMBDA_LOCAL_MODE": "host",
            "LAMBDA_LOCAL_PORT": str(LAMBDA_PORT),
            "LAMBDA_LOCAL_API_PORT": str(API_PORT),
            "AWS_LAMBDA_RIE": rie_binary(),
            "PYTHONPATH": str(ROOT),
        }
    )


def db_connection(
    autocommit: bool = False, password: str | None = None, port: int = DB_PORT, timeout: float | None = None
) -> Any:
    """A PyMySQL connection to the local café database as its application user, in UTC."""
    import pymysql  # dev tooling only; the stack itself does not need it

    creds = read_env_file(ROOT / "db.env")
    return pymysql.connect(
        host="127.0.0.1",
        port=port,
        user=creds["MARIADB_USER"],
        password=password or creds["MARIADB_PASSWORD"],
        database=creds["MARIADB_DATABASE"],
        autocommit=autocommit,
        init_command="SET time_zone = '+00:00'",
        connect_timeout=timeout or 10,
        read_timeout=timeout,
    )


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def invoke(port: int, event: object, timeout: float = 120) -> tuple[int, bytes]:
    """POST `event` to the RIE on `port`; returns (HTTP status, body)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{INVOKE_PATH}", data=json.dumps(event).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def docker_engine_available() -> bool:
    """Whether a Docker engine answers (DOCKER_HOST or the default socket), asked with the Docker SDK."""
    import docker  # only needed to tell the modes apart

    try:
        docker.from_env(timeout=5).ping()
    except docker.errors.DockerException:
        return False
    return True


def mode() -> str:
    forced = os.environ.get("STACK_MODE", "")
    if forced in ("host", "docker"):
        return forced
    if forced:
        raise SystemExit(f"STACK_MODE must be host or docker, got {forced!r}")
    return "docker" if docker_engine_available() else "host"


# --------------------------------------------------------------------------- host mode processes


def _pid_file(service: str) -> Path:
    return STATE / "pids" / f"{service}.pid"


def log_file(service: str) -> Path:
    return STATE / "logs" / f"{service}.log"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def service_pid(service: str) -> int | None:
    try:
        pid = int(_pid_file(service).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def spawn(service: str, cmd: list[str], env: Mapping[str, str] | None = None, cwd: Path = ROOT) -> int:
    """Start `cmd` in its own process group, output appended to .stack/logs/<service>.log."""
    for directory in ("pids", "logs"):
        (STATE / directory).mkdir(parents=True, exist_ok=True)
    with open(log_file(service), "ab") as out:
        process = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _pid_file(service).write_text(str(process.pid))
    return process.pid


def stop(service: str, timeout: float = 15) -> None:
    """Stop a host-mode service (its whole process group)."""
    pid = service_pid(service)
    if pid is not None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not _alive(pid):
                break
    _pid_file(service).unlink(missing_ok=True)


def wait_for_port(service: str, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        pid = service_pid(service)
        if pid is None:
            raise SystemExit(f"{service} exited during start-up; last lines of {log_file(service)}:\n{_tail(service)}")
        time.sleep(0.2)
    raise SystemExit(f"{service} did not open port {port} within {timeout:.0f}s; see {log_file(service)}")


def _tail(service: str, lines: int = 20) -> str:
    try:
        return "\n".join(log_file(service).read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _require_free(port: int, service: str) -> None:
    if port_open(port):
        raise SystemExit(f"port {port} (for {service}) is held by {port_holder(port)}; run `make down` or free it")


def port_holder(port: int) -> str:
    """Who listens on `port`: `pid N (name: command line)`, or why that cannot be told."""
    import psutil

    try:
        listeners = [
            c
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and getattr(c.laddr, "port", None) == port
        ]
        for conn in listeners:
            if conn.pid:
                process = psutil.Process(conn.pid)
                return f"pid {conn.pid} ({process.name()}: {' '.join(process.cmdline())[:100]})"
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        pass
    return "a process this user cannot see (another user's, or a container's port)"


def preflight(ports: Mapping[str, int]) -> None:
    """Refuse to start anything while any of `ports` is taken, naming every port and its holder."""
    busy = [(service, port) for service, port in ports.items() if port_open(port)]
    if busy:
        lines = [f"  {port} ({service}): held by {port_holder(port)}" for service, port in busy]
        raise SystemExit(
            "cannot start the stack, ports in use:\n"
            + "\n".join(lines)
            + "\nstop those processes (or `make down` if they are an earlier run of this stack)"
        )


def rie_binary() -> str:
    for candidate in (
        os.environ.get("AWS_LAMBDA_RIE"),
        str(ROOT / ".cache" / "bin" / "aws-lambda-rie"),
        shutil.which("aws-lambda-rie"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("aws-lambda-rie not found: run `make setup` (or tools/install_rie.sh)")


# --- MariaDB


def _db_dir() -> Path:
    return STATE / "mariadb"


def _mariadb_client(sql_input: bytes) -> None:
    result = subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={_db_dir() / 'mysqld.sock'}", "-uroot"],
        input=sql_input,
        capture_output=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"mariadb client failed: {result.stderr.decode(errors='replace').strip()}")


def start_db() -> None:
    if service_pid("db"):
        return
    _require_free(DB_PORT, "db")
    datadir = _db_dir() / "data"
    fresh = not datadir.exists()
    if fresh:
        if not shutil.which("mariadb-install-db"):
            raise SystemExit(
                "mariadb-install-db not found: install MariaDB server (Debian/Ubuntu: "
                "`apt-get install mariadb-server`; macOS: `brew install mariadb`) or run `make setup`"
            )
        log("initialising a private MariaDB data directory")
        datadir.mkdir(parents=True)
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={datadir}",
                "--auth-root-authentication-method=normal",
                "--user=root",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
    log(f"starting mariadbd on 127.0.0.1:{DB_PORT}")
    spawn(
        "db",
        [
            shutil.which("mariadbd") or "mariadbd",
            "--no-defaults",
            f"--datadir={datadir}",
            f"--socket={_db_dir() / 'mysqld.sock'}",
            f"--pid-file={_db_dir() / 'mysqld.pid'}",
            f"--port={DB_PORT}",
            "--bind-address=127.0.0.1",
            "--user=root",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=512M",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
        ],
    )
    wait_for_port("db", DB_PORT)
    creds = read_env_file(ROOT / "db.env")
    user, password, database = creds["MARIADB_USER"], creds["MARIADB_PASSWORD"], creds["MARIADB_DATABASE"]
    if fresh:
        log("loading schema and seed data")
        for sql in SEED_SQL:
            _mariadb_client(sql.read_bytes())
    else:  # a data directory from before the warehouse existed gets it (the script is idempotent)
        _mariadb_client(WAREHOUSE_SQL.read_bytes())
    # Same grants as the mariadb image gives MARIADB_USER on MARIADB_DATABASE, and on the warehouse
    # as images/db/initdb/04-warehouse-grants.sh gives it in Docker mode (idempotent).
    grants = "".join(
        f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}';"
        f"GRANT ALL ON `{database}`.* TO '{user}'@'{host}';"
        f"GRANT SELECT, INSERT, UPDATE ON `cafe_dw`.* TO '{user}'@'{host}';"
        for host in ("localhost", "127.0.0.1")
    )
    _mariadb_client(grants.encode())


def start_moto() -> None:
    if service_pid("aws"):
        return
    _require_free(MOTO_PORT, "aws")
    log(f"starting moto_server on {AWS_ENDPOINT}")
    spawn("aws", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(MOTO_PORT)])
    wait_for_port("aws", MOTO_PORT)


def bootstrap_aws() -> None:
    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    env |= read_env_file(ROOT / "local.env") | read_env_file(ROOT / "db.env")
    env |= {"AWS_ENDPOINT_URL": AWS_ENDPOINT, "DB_URL": f"127.0.0.1:{DB_PORT}"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bootstrap_aws.py")], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"AWS bootstrap failed:\n{result.stdout}{result.stderr}")
    log(result.stdout.strip())


def start_function(
    fn: Function, port: int | None = None, service: str | None = None, overrides: Mapping[str, str] | None = None
) -> str:
    """Run `fn` under the RIE on `port` (default: its own). Returns the service name."""
    port = port or fn.port
    service = service or fn.directory
    if service_pid(service):
        return service
    _require_free(port, service)
    spawn(
        service,
        [
            rie_binary(),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{port}",
            "--runtime-api-address",
            f"127.0.0.1:{port + RUNTIME_API_OFFSET}",
            sys.executable,
            "-m",
            "awslambdaric",
            fn.handler,
        ],
        env=function_env(fn, overrides),
        cwd=ROOT / "functions" / fn.directory,
    )
    wait_for_port(service, port)
    return service


def start_plane() -> None:
    """The local Lambda plane: every function's RIE processes behind its queue, the Invoke API."""
    if service_pid("lambda"):
        return
    for port in plane_ports().values():
        _require_free(port, "lambda")
    log(f"starting the local Lambda plane: Invoke API on {LAMBDA_ENDPOINT}, {len(FUNCTIONS)} functions under the RIE")
    spawn("lambda", [sys.executable, "-m", "lambda_local"], env=plane_env())
    wait_for_port("lambda", LAMBDA_PORT, timeout=120)
    wait_for_plane()


def wait_for_plane(timeout: float = 120) -> None:
    """Until the plane serves: its sockets listen before its runtimes and event sources are ready."""
    deadline = time.monotonic() + timeout
    while _probe_plane(LAMBDA_PORT, None) != "up":
        if time.monotonic() > deadline:
            raise SystemExit(f"the local Lambda plane did not become ready within {timeout:.0f}s; see `make logs`")
        time.sleep(0.2)


def host_up() -> None:
    start_db()
    start_moto()
    bootstrap_aws()
    start_plane()


def host_services() -> list[str]:
    pids = STATE / "pids"
    return sorted(p.stem for p in pids.glob("*.pid")) if pids.exists() else []


def host_down() -> None:
    for service in host_services():
        log(f"stopping {service}")
        stop(service)
    shutil.rmtree(_db_dir(), ignore_errors=True)


# --------------------------------------------------------------------------- docker mode


def compose(*args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "compose", *args], cwd=ROOT, check=check, text=True, capture_output=capture)


# --------------------------------------------------------------------------- mode-independent API


def stack_is_up() -> bool:
    return all(port_open(p) for p in backing_ports().values())


def compose_wait(ports: dict[str, int], timeout: float = 180) -> None:
    """Wait until every published port answers (`up --wait` can exit 1 on the one-shot aws-init)."""
    deadline = time.monotonic() + timeout
    for service, port in ports.items():
        while not port_open(port):
            if time.monotonic() > deadline:
                raise SystemExit(f"{service} did not answer on port {port}; see `docker compose logs {service}`")
            time.sleep(0.5)


def compose_healthy(service: str, timeout: float = 120) -> None:
    """Wait for a compose service's health check (a published port answers before the server does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = subprocess.run(
            ["docker", "compose", "ps", "--format", "{{.Health}}", service], cwd=ROOT, capture_output=True, text=True
        )
        if result.stdout.strip() == "healthy":
            return
        time.sleep(1)
    raise SystemExit(f"{service} did not become healthy within {timeout:.0f}s; see `docker compose logs {service}`")


def plane_ports() -> dict[str, int]:
    """What the plane listens on: the Invoke API, each function's port and, with API events, API Gateway."""
    ports = {"lambda": LAMBDA_PORT} | {f.directory: f.port for f in FUNCTIONS}
    return ports | ({"api": API_PORT} if routes_of(load()) else {})


def backing_ports() -> dict[str, int]:
    return {"db": DB_PORT, "aws": MOTO_PORT} | plane_ports()


def ports_to_claim(current: str) -> dict[str, int]:
    """The ports `up` is about to open: all of them, less those of this stack's parts already running."""
    ports = backing_ports()
    if current == "docker":
        running = compose("ps", "--quiet", "--status", "running", check=False, capture=True).stdout.strip()
        return {} if running else ports
    claimed = {"db": {"db": DB_PORT}, "aws": {"aws": MOTO_PORT}, "lambda": plane_ports()}
    return {
        name: port for service, group in claimed.items() if not service_pid(service) for name, port in group.items()
    }


def up() -> None:
    current = mode()
    log(f"mode: {current}")
    preflight(ports_to_claim(current))
    if current == "docker":
        # Function containers start only after aws-init completed (depends_on), so `up` fails
        # when the bootstrap does.
        compose("up", "--detach", "--build")
        compose_wait(backing_ports())
        wait_for_plane()
    else:
        host_up()
    log("stack is up: " + ", ".join(f"{f.directory} http://127.0.0.1:{f.port}{INVOKE_PATH}" for f in FUNCTIONS))
    log(f"Lambda Invoke API {LAMBDA_ENDPOINT}, local AWS endpoint {AWS_ENDPOINT}, MariaDB 127.0.0.1:{DB_PORT}")


def down() -> None:
    if mode() == "docker":
        compose("down", "--volumes")
    else:
        host_down()
    log("stack is down")


def stop_service(service: str) -> None:
    """Stop one service (e.g. `db`) without touching its data."""
    if mode() == "docker":
        compose("stop", service)
    else:
        stop(service)


def start_service(service: str) -> None:
    """Start a service stopped by stop_service and wait until it answers."""
    if mode() == "docker":
        compose("start", service)
        compose_healthy(service)
    elif service == "db":
        start_db()
    elif service == "aws":
        start_moto()
    elif service == "lambda":
        start_plane()
    else:
        raise SystemExit(f"unknown service {service!r}")


def restart_function(fn: Function) -> None:
    """A fresh runtime for `fn` (its next invocation is a cold start)."""
    if mode() == "docker":
        compose("restart", fn.directory)
        compose_healthy(fn.directory)  # its port is the plane's, so wait on the container itself
        return
    request = urllib.request.Request(f"{LAMBDA_ENDPOINT}/_local/functions/{fn.lambda_name}/restart", method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def read_logs(service: str) -> str:
    if mode() == "docker":
        result = subprocess.run(
            ["docker", "compose", "logs", "--no-color", "--no-log-prefix", service],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return result.stdout + result.stderr
    try:
        return log_file(service).read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _probe_db(port: int) -> str:
    import pymysql

    try:
        db_connection(port=port, timeout=3).close()
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else 0
        return "down" if code == 2003 else f"foreign: does not accept this stack's user (MySQL error {code})"
    except pymysql.MySQLError as exc:
        return f"foreign: not the café database ({type(exc).__name__})"
    return "up"


def _probe_aws(port: int) -> str:
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from tools import moto  # imports this module

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1})
    ssm = moto.client("ssm", config, endpoint=f"http://127.0.0.1:{port}")
    try:
        prefix = read_env_file(ROOT / "local.env")["DB_PARAMETER_PREFIX"]
        ssm.get_parameter(Name=f"{prefix}/dbUrl")
    except ClientError:
        return "foreign: answers, but holds none of this stack's parameters"
    except BotoCoreError:
        return "down"
    return "up"


def _probe_plane(port: int, function: str | None) -> str:
    """The plane answers its own listing on the API port and on every function port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/functions", timeout=5) as response:
            listing = json.loads(response.read())
        names = {entry["function"] for entry in listing["functions"]}
    except (urllib.error.URLError, OSError) as exc:
        refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
        return "down" if refused else "foreign: not the local Lambda plane"
    except (ValueError, KeyError, TypeError):
        return "foreign: not the local Lambda plane"
    if listing.get("service") != "lambda_local" or names != {f.lambda_name for f in FUNCTIONS}:
        return "foreign: a Lambda plane serving other functions"
    return "up" if function is None or function in names else "foreign"


def probe(service: str, port: int) -> str:
    """ "up" when this stack's `service` answers on `port`, "down" when nothing does, else "foreign: why"."""
    if not port_open(port):
        return "down"
    if service == "db":
        return _probe_db(port)
    if service == "aws":
        return _probe_aws(port)
    if service == "api":
        return _probe_api(port)
    function = None if service == "lambda" else by_name(service).lambda_name
    return _probe_plane(port, function)


def _probe_api(port: int) -> str:
    """The plane's API Gateway answers a route it does not have as API Gateway does (403 or 404, JSON)."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/no-such-route", timeout=5)
    except urllib.error.HTTPError as error:
        try:
            answer = json.loads(error.read())
        except ValueError:
            answer = None
        if error.code in (403, 404) and isinstance(answer, dict) and "message" in answer:
            return "up"
    except (urllib.error.URLError, OSError):
        return "down"
    return "foreign: not the local API Gateway"


def status() -> int:
    """Print each service's state; 0 when every one is this stack's and up, else 1."""
    states = {service: probe(service, port) for service, port in backing_ports().items()}
    for service, port in backing_ports().items():
        print(f"{service:<24} 127.0.0.1:{port:<6} {states[service]}")
    if states["aws"] == "up":
        print(failed_events_line())
    return 0 if all(state == "up" for state in states.values()) else 1


def failed_events_line() -> str:
    """How many failed events wait in the on-failure queue (and how many the plane gave up on)."""
    from tools import moto

    queue = read_env_file(ROOT / "local.env")["FAILED_INVOCATIONS_QUEUE"]
    sqs = moto.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        waiting = attributes["Attributes"]["ApproximateNumberOfMessages"]
    except Exception as exc:  # noqa: BLE001 - status reports, it does not fail on a missing queue
        return f"failed events: on-failure queue {queue} unreadable ({type(exc).__name__})"
    return f"failed events: {waiting} in the on-failure queue {queue} (`make events` shows deliveries)"


def follow_events() -> None:
    """Follow the plane's delivery lines (one JSON line per delivery attempt)."""
    if mode() == "docker":
        compose("logs", "--follow", "--no-log-prefix", "lambda", check=False)
        return
    path = log_file("lambda")
    print(f"following deliveries in {path} (Ctrl-C to stop)", flush=True)
    with open(path, errors="replace") as lines:
        lines.seek(0, os.SEEK_END)
        while True:
            line = lines.readline()
            if not line:
                time.sleep(0.3)
            elif '"source"' in line:
                print(line, end="", flush=True)


def fire(rule: str, at: str | None) -> int:
    """Fire a schedule rule now, as if at `at`; prints how the delivery was settled."""
    if not port_open(LAMBDA_PORT):
        raise SystemExit(f"the local Lambda plane is not answering on port {LAMBDA_PORT}: run `make up` first")
    body = json.dumps({"at": at} if at else {}).encode()
    request = urllib.request.Request(f"{LAMBDA_ENDPOINT}/_local/schedules/{rule}/fire", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=960) as response:
            result = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("message", exc.reason)
        raise SystemExit(f"make fire: {detail}") from None
    when, target = result["time"], result["function"]
    print(f"{result['rule']} fired at {when} -> {target}: {result['outcome']} (request {result['requestId']})")
    return 0 if result["outcome"] == "ok" else 1


def main(argv: list[str]) -> None:
    command, args = (argv[0], argv[1:]) if argv else ("status", [])
    if command == "up":
        up()
    elif command == "down":
        down()
    elif command == "status":
        sys.exit(status())
    elif command == "logs":
        services = args or (["db", "aws", "lambda", *(f.directory for f in FUNCTIONS)])
        if mode() == "docker":
            compose("logs", "--tail", "200", *args)
            return
        for service in services:
            print(f"----- {service} ({log_file(service)})")
            print(_tail(service, 200))
    elif command == "events":
        with contextlib.suppress(KeyboardInterrupt):
            follow_events()
    elif command == "fire":
        if len(args) not in (1, 2):
            raise SystemExit("usage: python -m tools.stack fire RULE [AT]")
        sys.exit(fire(args[0], args[1] if len(args) == 2 else None))
    elif command == "token":
        if not args:
            raise SystemExit("usage: python -m tools.stack token SUB [CLAIMS_JSON] [AUTHORIZER]")
        try:
            claims = json.loads(args[1]) if len(args) > 1 and args[1] else {}
        except json.JSONDecodeError as exc:
            raise SystemExit(f"CLAIMS must be a JSON object: {exc}") from None
        if not isinstance(claims, dict):
            raise SystemExit("CLAIMS must be a JSON object")
        try:
            print(template_token(load(), {"sub": args[0]} | claims, args[2] if len(args) > 2 and args[2] else None))
        except TemplateError as exc:
            raise SystemExit(str(exc)) from None
    elif command == "invoke":
        if len(args) != 2:
            raise SystemExit("usage: python -m tools.stack invoke FUNCTION EVENT_FILE")
        fn = by_name(args[0])
        try:
            event = json.loads(Path(args[1]).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"cannot read event file {args[1]}: {exc}") from None
        if not port_open(LAMBDA_PORT):
            raise SystemExit(f"the local Invoke API is not answering on port {LAMBDA_PORT}: run `make up` first")
        request = urllib.request.Request(
            f"{LAMBDA_ENDPOINT}/2015-03-31/functions/{fn.lambda_name}/invocations",
            data=json.dumps(event).encode(),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=960) as response:
                body, error = response.read(), response.headers.get("X-Amz-Function-Error")
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:500]}") from None
        try:
            print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
        except json.JSONDecodeError:
            print(body.decode(errors="replace"))
        if error:
            raise SystemExit(f"{fn.lambda_name} failed ({error})")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
