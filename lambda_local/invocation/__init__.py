"""Invoking a function: asynchronous invocations (asynchronous.py) kept on disk until settled
(event_store.py), Lambda's FunctionName forms (function_names.py), an invoke's tenant id (tenants.py),
and the delivery lines and records sent (deliveries.py, sent_records.py). May import: settings, logs,
providers, events, environments.
"""
