# One image per function: docker build -f images/lambda-python.Dockerfile --build-arg FUNCTION=<dir> .
# The AWS base image carries the runtime interface client and the RIE, so the same image runs
# locally (docker run -p 9001:8080 ...) and in AWS Lambda.
FROM public.ecr.aws/lambda/python:3.13

ARG FUNCTION
# AWS services whose botocore data (models, endpoints.json entries) the image keeps (template.yaml:
# those the function's policies allow); empty keeps all.
ARG AWS_SERVICES=""
RUN test -n "${FUNCTION}" || (echo "build arg FUNCTION (a folder under functions/) is required" >&2 && exit 1)

# The function's lock (shared/requirements.txt and its own, every transitive version pinned with its
# hashes; `make lock`, docs/develop.md#locked-requirements): pip installs exactly it, hashes required.
COPY functions/${FUNCTION}/requirements.lock /tmp/build/requirements.lock
COPY images/prune_botocore.py /tmp/build/
# botocore's data for every AWS service takes 27 MB and costs every cold start a scan of about 450
# model folders and a 1.2 MB endpoints.json parse; the function's role can call only its own services.
# Pruned in the install layer, so the image does not carry them either.
# hadolint ignore=SC2086
RUN pip install --no-cache-dir --require-hashes --no-deps --only-binary :all: --target "${LAMBDA_TASK_ROOT}" \
        -r /tmp/build/requirements.lock \
    && python3 /tmp/build/prune_botocore.py "${LAMBDA_TASK_ROOT}/botocore/data" ${AWS_SERVICES} \
    && rm -rf /tmp/build

COPY shared/ ${LAMBDA_TASK_ROOT}/shared/
COPY functions/${FUNCTION}/ ${LAMBDA_TASK_ROOT}/
# Lambda's file system is read-only: without these .pyc files every cold start compiles the
# function's own modules again (pip already compiled the installed packages). Unchecked hashes: the
# image never changes the sources, and a rewritten timestamp cannot make the bytecode stale.
RUN python3 -m compileall -q --invalidation-mode unchecked-hash "${LAMBDA_TASK_ROOT}/shared" "${LAMBDA_TASK_ROOT}"/*.py

CMD ["app.handler"]
