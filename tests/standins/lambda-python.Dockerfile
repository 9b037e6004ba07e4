# Stand-in for public.ecr.aws/lambda/python:3.13 (see README.md). Built by build.sh only.
FROM standin/debian:trixie

ARG AWSLAMBDARIC_VERSION
ARG BOTO3_VERSION
SHELL ["/bin/sh", "-eu", "-c"]

COPY host-ca.crt /usr/local/share/ca-certificates/host-ca.crt
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        ca-certificates python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > /etc/pip.conf \
    && python3 -m venv /var/lang \
    && /var/lang/bin/pip install --no-cache-dir --quiet --target /var/runtime \
        "awslambdaric==${AWSLAMBDARIC_VERSION}" "boto3==${BOTO3_VERSION}" \
    && mkdir -p /var/task /opt

COPY --chmod=0755 aws-lambda-rie /usr/local/bin/aws-lambda-rie
COPY --chmod=0755 lambda-entrypoint.sh /lambda-entrypoint.sh
COPY --chmod=0755 runtime-bootstrap.sh /var/runtime/bootstrap

ENV LANG=en_US.UTF-8 \
    TZ=:/etc/localtime \
    PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin \
    LAMBDA_TASK_ROOT=/var/task \
    LAMBDA_RUNTIME_DIR=/var/runtime
LABEL org.lambda-container-images.standin="true"
WORKDIR /var/task
ENTRYPOINT ["/lambda-entrypoint.sh"]
