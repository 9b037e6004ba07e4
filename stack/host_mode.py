"""Host mode: the stack's parts as processes of this machine (Linux), supervised through pid files
and psutil: a private `mariadbd` seeded with the same SQL as the database image, `moto_server`, the
AWS bootstrap, and the local Lambda plane, which starts and restarts each function's RIE process."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import psutil

from lambda_local.environments import function_envs, variables
from lambda_local.environments.variables import read_env_file
from stack.common import (
    API_PORT,
    AWS_ENDPOINT,
    DB_PORT,
    LAMBDA_ENDPOINT,
    LAMBDA_PORT,
    MOTO_PORT,
    ROOT,
    RUNTIME_API_OFFSET,
    SEED_SQL,
    STATE,
    VENV_BIN,
    WAREHOUSE_SQL,
    function_env,
    log,
    plane_ports,
    port_holder,
    port_open,
    wait_for_plane,
)
from stack.functions import Function, functions


def plane_env() -> dict[str, str]:
    """The local plane's own environment: the local AWS endpoint and its dummy credentials."""
    env = {k: os.environ[k] for k in variables.PASSED_THROUGH if k in os.environ}
    # The plane's own settings given at `make up` (LAMBDA_LOCAL_WATCH=0, LAMBDA_LOCAL_DEBUG=<function>, ...).
    env |= {k: v for k, v in os.environ.items() if k.startswith("LAMBDA_LOCAL_")}
    # What uv needs to make the functions' environments there (its locks too): certificates, uv's own
    # settings; proxies only for uv (function_envs.TOOL_ENV), never for the plane's own calls.
    env |= function_envs.tool_settings(os.environ, proxies=False)
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
            function_envs.TOOL_ENV: json.dumps(function_envs.tool_settings(os.environ)),
        }
    )


def _pid_file(service: str) -> Path:
    return STATE / "pids" / f"{service}.pid"


def log_file(service: str) -> Path:
    return STATE / "logs" / f"{service}.log"


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie child of ours is reaped and counts as gone)."""
    try:
        if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            return True
    except psutil.NoSuchProcess:
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return False


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


def rie_binary() -> str:
    for candidate in (
        os.environ.get("AWS_LAMBDA_RIE"),
        str(ROOT / ".cache" / "bin" / "aws-lambda-rie"),
        shutil.which("aws-lambda-rie"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("aws-lambda-rie not found: run `make setup` (or tools/install_rie.sh)")


def _db_dir() -> Path:
    return STATE / "mariadb"


def root_password() -> str:
    """The private database's root password: generated for this stack, kept in .stack/ (mode 600)."""
    path = STATE / "db-root-password"
    if not path.exists():
        STATE.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _mariadb_client(sql_input: bytes, password: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run SQL as root over the socket (the password in the environment, never on a command line)."""
    env = os.environ | {"MYSQL_PWD": root_password() if password is None else password}
    result = subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={_db_dir() / 'mysqld.sock'}", "-uroot"],
        input=sql_input,
        capture_output=True,
        env=env,
    )
    if result.returncode != 0:
        raise SystemExit(f"mariadb client failed: {result.stderr.decode(errors='replace').strip()}")
    return result


def _lock_root() -> None:
    """root gets the generated password (mariadb-install-db leaves it empty, and TCP from 127.0.0.1 is
    root@localhost): a data directory made before this has its root locked on the next start."""
    probe = subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={_db_dir() / 'mysqld.sock'}", "-uroot", "-e", "SELECT 1"],
        capture_output=True,
        env=os.environ | {"MYSQL_PWD": root_password()},
    )
    if probe.returncode == 0:
        return
    quoted = root_password().replace("'", "''")
    _mariadb_client(f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{quoted}';".encode(), password="")


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
                "`apt-get install mariadb-server`) or run `make setup`; host mode runs on Linux only"
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
    _lock_root()
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
    log(f"starting moto_server on {AWS_ENDPOINT} (loopback names and its own pages only: stack/aws_endpoint.py)")
    endpoint = str(Path(__file__).with_name("aws_endpoint.py"))
    spawn("aws", [str(VENV_BIN / "python"), endpoint, "-H", "127.0.0.1", "-p", str(MOTO_PORT)])
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
    if port is None:
        raise SystemExit(f"{fn.lambda_name} has no Metadata.LocalPort: give start_function a port")
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
            function_python(fn),
            "-m",
            "awslambdaric",
            fn.handler,
        ],
        env=function_env(fn, overrides),
        cwd=ROOT / "functions" / fn.directory,
    )
    wait_for_port(service, port)
    return service


def prepare_function_envs() -> function_envs.FunctionEnvs:
    """Each function's own environment made current before the plane starts them (function_envs.py):
    one line naming the Python, one per environment made (the first `make up` makes them all), none
    for those current already. What cannot be installed is said and listed by `make status`."""
    envs = function_envs.FunctionEnvs(log)
    envs.prepare(functions())
    return envs


def function_python(fn: Function) -> str:
    """The interpreter of `fn`'s environment, made first if it is not current."""
    envs = function_envs.FunctionEnvs(log)
    envs.update(fn)
    return envs.python(fn)


def start_plane() -> None:
    """The local Lambda plane: every function's RIE processes behind its queue, the Invoke API."""
    if service_pid("lambda"):
        return
    for port in plane_ports().values():
        _require_free(port, "lambda")
    log(f"starting the local Lambda plane: Invoke API on {LAMBDA_ENDPOINT}, {len(functions())} functions under the RIE")
    started = log_file("lambda").stat().st_size if log_file("lambda").exists() else 0
    spawn("lambda", [sys.executable, "-m", "lambda_local"], env=plane_env())

    def output() -> str:  # this start's lines only
        with open(log_file("lambda"), "rb") as lines:
            lines.seek(started)
            return lines.read().decode(errors="replace")

    def alive() -> bool:
        return service_pid("lambda") is not None

    wait_for_port("lambda", LAMBDA_PORT, timeout=120)
    wait_for_plane(alive=alive, output=output)


def host_services() -> list[str]:
    pids = STATE / "pids"
    return sorted(p.stem for p in pids.glob("*.pid")) if pids.exists() else []


class HostStack:
    """The `Stack` of host mode."""

    mode = "host"

    def ports_to_claim(self) -> dict[str, int]:
        """The ports `up` opens, less those of this stack's parts already running."""
        claimed = {"db": {"db": DB_PORT}, "aws": {"aws": MOTO_PORT}, "lambda": plane_ports()}
        return {
            name: port for service, group in claimed.items() if not service_pid(service) for name, port in group.items()
        }

    def up(self) -> None:
        start_db()
        start_moto()
        bootstrap_aws()
        if not service_pid("lambda"):
            prepare_function_envs()
        start_plane()

    def down(self) -> None:
        for service in host_services():
            log(f"stopping {service}")
            stop(service)
        shutil.rmtree(_db_dir(), ignore_errors=True)
        (STATE / "db-root-password").unlink(missing_ok=True)  # the next database gets a new one
        (STATE / "jwt-dev-key").unlink(missing_ok=True)  # and the next plane a new token signing key
        # The stack's state goes with it, as Docker mode's volumes do: accepted events not yet run too
        # (a plane that crashes or is killed keeps them for the next one).
        for store in STATE.glob("events.sqlite*"):
            store.unlink(missing_ok=True)

    def stop_service(self, service: str) -> None:
        stop(service)

    def start_service(self, service: str) -> None:
        starts = {"db": start_db, "aws": start_moto, "lambda": start_plane}
        if service not in starts:
            raise SystemExit(f"unknown service {service!r}")
        starts[service]()

    def restart_function(self, fn: Function) -> None:
        request = urllib.request.Request(f"{LAMBDA_ENDPOINT}/_local/functions/{fn.lambda_name}/restart", method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    def read_logs(self, service: str) -> str:
        try:
            return log_file(service).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def show_logs(self, services: list[str]) -> None:
        for service in services or ["db", "aws", "lambda", *(f.directory for f in functions())]:
            print(f"----- {service} ({log_file(service)})")
            print(_tail(service, 200))

    def follow_events(self) -> None:
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
