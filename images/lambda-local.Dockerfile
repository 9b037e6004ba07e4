# The local Lambda plane (Invoke API, queues, event delivery) and the one-shot AWS bootstrap of the
# local stack. Never deployed: only compose.yaml uses it.
FROM python:3.13-slim

WORKDIR /project
# Locked from lambda_local/requirements.txt (`make lock`): exactly these versions, hashes required.
COPY lambda_local/requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --require-hashes --no-deps --only-binary :all: -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

COPY template.yaml local.env ./
COPY functions/ functions/
COPY lambda_local/ lambda_local/
COPY tools/__init__.py tools/bootstrap_aws.py tools/gen_weather.py tools/
COPY sites/ sites/
RUN mkdir -p .stack/logs && chown -R 65534:65534 .stack
USER 65534
CMD ["python", "-m", "lambda_local"]
