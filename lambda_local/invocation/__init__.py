"""Invoking a function: asynchronous invocations (asynchronous.py) kept on disk until settled
(event_store.py), their destinations' records sent, recursive loops stopped (recursion.py), Lambda's
FunctionName forms (function_names.py) and quotas (limits.py), and the delivery lines (deliveries.py).
May import: providers, environments, events.
"""
