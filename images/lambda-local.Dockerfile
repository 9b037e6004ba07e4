# The local Lambda plane (Invoke API, queues, event delivery) and the one-shot AWS bootstrap of the
# local stack. Never deployed: only compose.yaml uses it.
FROM python:3.13-slim

WORKDIR /project
COPY lambda_local/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt && rm /tmp/requirements.txt

COPY template.yaml local.env ./
COPY functions/ functions/
COPY lambda_local/ lambda_local/
COPY tools/__init__.py tools/bootstrap_aws.py tools/gen_weather.py tools/
COPY sites/ sites/
RUN mkdir -p .stack/logs && chown -R 65534:65534 .stack
USER 65534
CMD ["python", "-m", "lambda_local"]
