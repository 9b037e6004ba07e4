"""Traces, locally: the spans the functions export (OTLP/HTTP, decoded in otlp.py) and the plane's own
(recorder.py: trigger received, queued, invocation, destination) kept in one bounded SQLite store
(store.py, `.stack/traces.sqlite`), and one trace built into the tree and waterfall the console and
`make trace` show (tree.py). The span and its limits are in model.py. Pure and typed but for the
store's writer thread. May import: settings, logs, events.
"""
