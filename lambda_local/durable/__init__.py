"""Durable functions: AWS's local runner (`aws-durable-execution-sdk-python-testing`, pinned) inside the
plane. engine.py assembles the runner's store, scheduler, invoker, checkpoint processor and executor
and starts executions on Invoke; executor.py is the runner's executor with what a plane that restarts
adds (Lambda's ARNs, recovery, time control, deletion); store.py the runner's SQLite store under
`.stack/durable/`; summary.py one execution as the listings show it. The routes are http/durable_api.py.
May import: settings, logs, providers.
"""

from lambda_local.durable.engine import DurableEngine, DurableError, Started, sync_answer

__all__ = ["DurableEngine", "DurableError", "Started", "sync_answer"]
