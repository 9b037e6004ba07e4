"""Hot reload's pure parts: which edits reload which functions, and what never reloads."""

from pathlib import Path

from watchfiles import Change

from lambda_local.environments import reload
from lambda_local.providers import load

TEMPLATE = load()


def test_an_edit_reloads_its_function_and_shared_reloads_every_function() -> None:
    weather = next(fn for fn in TEMPLATE.functions if fn.directory == "weather-api")
    found = reload.affected(TEMPLATE, [weather.code / "app.py"])
    assert found == {"weatherApi": [(weather.code / "app.py").resolve()]}
    shared = reload.shared_folder(TEMPLATE) / "log.py"
    assert set(reload.affected(TEMPLATE, [shared])) == {fn.lambda_name for fn in TEMPLATE.functions}


def test_bytecode_editor_files_sample_events_and_tests_never_reload() -> None:
    code = next(fn for fn in TEMPLATE.functions if fn.directory == "weather-api").code
    quiet = [
        code / "__pycache__" / "app.cpython-313.pyc",
        code / ".app.py.swp",
        code / "app.py~",
        code / "events" / "sample.json",
        code / "tests" / "test_app.py",
        code / "app.py.tmp",
    ]
    assert reload.affected(TEMPLATE, quiet) == {}
    assert reload.affected(TEMPLATE, [Path("/elsewhere/app.py")]) == {}


def test_the_watcher_is_on_unless_turned_off_and_watches_each_function_and_shared() -> None:
    assert reload.enabled({})
    assert not reload.enabled({"LAMBDA_LOCAL_WATCH": "0"}) and not reload.enabled({"LAMBDA_LOCAL_WATCH": "off"})
    assert set(reload.watched(TEMPLATE)) == {fn.code for fn in TEMPLATE.functions} | {reload.shared_folder(TEMPLATE)}


def test_a_changed_module_s_bytecode_is_forgotten(tmp_path: Path) -> None:
    (tmp_path / "__pycache__").mkdir()
    stale = tmp_path / "__pycache__" / "app.cpython-311.pyc"
    other = tmp_path / "__pycache__" / "other.cpython-311.pyc"
    stale.write_bytes(b"old")
    other.write_bytes(b"old")
    reload.forget_bytecode([tmp_path / "app.py"])
    assert not stale.exists() and other.exists()


def test_a_temporary_file_added_and_gone_within_a_batch_is_no_edit(tmp_path: Path) -> None:
    edited, temporary, deleted = tmp_path / "app.py", tmp_path / "sedskBMlC", tmp_path / "old.py"
    edited.write_text("x = 1\n")
    changes = {
        (Change.added, str(temporary)),  # sed -i: written beside the file, then renamed over it
        (Change.modified, str(temporary)),
        (Change.deleted, str(temporary)),
        (Change.modified, str(edited)),
        (Change.deleted, str(deleted)),  # a module removed is a change to the code
    }
    assert reload.changed_paths(changes) == [edited, deleted]
    temporary.write_text("kept")  # added and still there: a new file
    assert reload.changed_paths({(Change.added, str(temporary))}) == [temporary]


def test_a_changed_file_that_does_not_compile_is_named_with_its_line(tmp_path):  # type: ignore[no-untyped-def]
    from lambda_local.environments.reload import syntax_error

    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text("x = 1\n")
    bad.write_text("x = 1\n\ndef f(:\n    pass\n")
    assert syntax_error([good], tmp_path) is None
    assert syntax_error([good, bad, tmp_path / "requirements.txt"], tmp_path) == "bad.py:3: SyntaxError: invalid syntax"


def test_a_module_that_fails_to_import_is_named_with_its_file_and_line(tmp_path):  # type: ignore[no-untyped-def]
    import asyncio
    import os
    from dataclasses import replace

    from lambda_local.environments.reload import import_error
    from lambda_local.providers import load

    (tmp_path / "helper.py").write_text("VALUE = 1\n\nraise RuntimeError('no config')\n")
    (tmp_path / "app.py").write_text("import helper\n\n\ndef handler(event, context):\n    return {}\n")
    fn = replace(load().function("weatherApi"), folder=tmp_path.parent, directory=tmp_path.name, handler="app.handler")
    found = asyncio.run(import_error(fn, dict(os.environ), tmp_path.parent))
    assert found == f"{tmp_path.name}/helper.py:3: RuntimeError: no config"
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    assert asyncio.run(import_error(fn, dict(os.environ), tmp_path.parent)) is None
