"""AWS's durable execution conformance requirements against a probe plane (docs/durable.md#conformance)."""
