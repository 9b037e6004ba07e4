"""Event sources, one module per source: SNS and S3 notifications through their queues
(notifications.py), SQS mappings (sqs.py), Kinesis and DynamoDB streams (streams.py), schedules
(schedules.py), with partial batch failures (batch_failures.py) beside them, and the resources they
need provisioned (provision.py). Their FilterCriteria are read and matched by providers/filters.py.
May import: settings, logs, providers, events, environments, invocation.
"""
