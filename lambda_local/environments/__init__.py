"""Execution environments: where a function's invocations run.

The pool of a function's environments and the account's concurrency (pool.py), one environment
(instance.py: what an RIE answered, as Lambda's result), host mode's RIE processes (processes.py) and
Docker mode's containers (containers.py, sandbox.py, compose.py), their output (log_buffer.py,
log_files.py, log_format.py, container_logs.py), supervision, hot reload, the debugger's guard and the
runtime shim. May import: settings, logs, providers, events.
"""
