"""Hot reload in Docker mode: an edit of a function's code, while the stack runs, rebuilds that function's
image (the plane watches the code through a read-only mount) and replaces its environments, compose's
container included; an invocation in flight finishes on the old image."""

from __future__ import annotations

import threading
import time

import stack
from stack.functions import by_name
from tests.support.probe_plane import wait_for
from tests.support.reload_probe import probe, restored

EXTRACTOR = by_name("sales-data-extractor")


def test_an_edit_rebuilds_the_image_and_the_next_invocation_runs_it_while_one_in_flight_finishes_old():
    app = EXTRACTOR.code / "app.py"
    with restored(app) as edit:
        edit("one")
        wait_for(lambda: probe(EXTRACTOR.lambda_name) == "one", 180, "the first edit served (an image build)")
        in_flight: dict[str, object] = {}
        slow = threading.Thread(target=lambda: in_flight.update(v=probe(EXTRACTOR.lambda_name, sleep=4)))
        slow.start()
        time.sleep(1)
        edit("two")
        wait_for(lambda: probe(EXTRACTOR.lambda_name) == "two", 120, "the second edit served")
        slow.join(60)
        assert in_flight.get("v") == "one"
    wait_for(lambda: probe(EXTRACTOR.lambda_name) is None, 120, "the original code served again")
    log = stack.read_logs("lambda")
    assert f"reloaded {EXTRACTOR.lambda_name} (functions/{EXTRACTOR.directory}/app.py): image" in log


def test_an_edit_that_does_not_import_in_its_image_is_named_with_its_file_and_line_and_a_fix_is_served():
    app = EXTRACTOR.code / "app.py"
    with restored(app) as edit:
        original = app.read_text()
        broken = original + "\nimport no_such_package_here  # noqa\n"
        staged = app.with_name("app.py.broken.tmp")
        staged.write_text(broken)
        staged.replace(app)
        missing = "No module named 'no_such_package_here'"
        line = wait_for(
            lambda: next((x for x in stack.read_logs("lambda").splitlines() if missing in x), None),
            180,
            "the broken edit's reload line (an image build and an import check in it)",
        )
        where = f"functions/{EXTRACTOR.directory}/app.py:{len(broken.splitlines())}: ModuleNotFoundError"
        assert where in line and "does not load" in line, line
        edit("fixed")
        wait_for(lambda: probe(EXTRACTOR.lambda_name) == "fixed", 180, "the fixed code served")
