"""The HTTP surfaces: the Lambda Invoke API and the control endpoints (invoke_api.py), API Gateway
(api_gateway.py, its tokens in tokens.py), function URLs (function_urls.py), the console
(console.py, static/: its trace view too), the functions' span exports (otlp.py), request bodies read
within Lambda's quotas (limits.py) and the guard in front of them all (doors.py). May import:
everything below it, the plane included.
"""
