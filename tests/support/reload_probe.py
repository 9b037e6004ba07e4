"""Edits hot reload is tested and benched with.

- A function of its own in a temporary folder (`copy_of_reloaded`), served by a probe plane (host
  mode): `write_app` rewrites its app.py to answer a value of the edit's own.
- An edit to a real function while the stack runs (Docker mode): a wrapper appended to its app.py that
  answers `{"reload_probe": ...}` events with a value of the edit's own (after an optional sleep) and
  hands every other event to the function. `restored()` puts the file back exactly as it was, whatever
  happens in between."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stack.common import LAMBDA_ENDPOINT
from tests.support.probe_plane import one_function_project

RELOADED_APP = """\
import time

VALUE = {value!r}


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {{"value": VALUE, "request_id": context.aws_request_id}}
"""


def write_app(folder: Path, value: str) -> None:
    """The reloaded function's app.py answering `value`, written whole then renamed, as editors save: the
    watcher never sees half a file."""
    staged = folder / "app.py.tmp"
    staged.write_text(RELOADED_APP.format(value=value))
    staged.replace(folder / "app.py")


def copy_of_reloaded(root: Path, value: str) -> Path:
    """`root`/template.yaml and the function's folder under `root`/functions (returned), answering `value`."""
    return one_function_project(root, "reloaded", "reloadProbe", RELOADED_APP.format(value=value), "Timeout: 20")


WRAPPER = """

# --- hot reload probe (tests/support/reload_probe.py): never committed ---
_reload_probe_original = handler


def handler(event, context):  # type: ignore[no-redef]
    if isinstance(event, dict) and "reload_probe" in event:
        import time

        time.sleep(event.get("sleep", 0))
        return {{"reload_probe": {value!r}}}
    return _reload_probe_original(event, context)
"""


@contextlib.contextmanager
def restored(app: Path) -> Iterator[Callable[[str], None]]:
    """`edit(value)` rewrites `app` (whole, then renamed, as editors save) with the wrapper answering `value`."""
    original = app.read_text()

    def edit(value: str) -> None:
        staged = app.with_name(app.name + ".reload-probe.tmp")
        staged.write_text(original + WRAPPER.format(value=value))
        staged.replace(app)

    try:
        yield edit
    finally:
        staged = app.with_name(app.name + ".reload-probe.tmp")
        staged.write_text(original)
        staged.replace(app)


def probe(function: str, sleep: float = 0, timeout: float = 60) -> Any:
    """What `function` answers a probe event with now (None: the function itself answered)."""
    request = urllib.request.Request(
        f"{LAMBDA_ENDPOINT}/2015-03-31/functions/{function}/invocations",
        data=json.dumps({"reload_probe": True, "sleep": sleep}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = json.loads(response.read())
    return body.get("reload_probe") if isinstance(body, dict) else None
