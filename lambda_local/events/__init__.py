"""Event builders: the events AWS services hand to Lambda and the records Lambda sends, as pure
functions, one module per shape; and the trace header they carry, with its lineage (recursion.py:
Lambda's recursive loop detection). Used by the sources and the HTTP surfaces alike.
May import: settings, providers.
"""
