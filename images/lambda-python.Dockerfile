# One image per function: docker build -f images/lambda-python.Dockerfile --build-arg FUNCTION=<dir> .
# The AWS base image carries the runtime interface client and the RIE, so the same image runs
# locally (docker run -p 9001:8080 ...) and in AWS Lambda.
FROM public.ecr.aws/lambda/python:3.13

ARG FUNCTION
RUN test -n "${FUNCTION}" || (echo "build arg FUNCTION (a folder under functions/) is required" >&2 && exit 1)

COPY shared/requirements.txt /tmp/requirements/shared.txt
COPY functions/${FUNCTION}/requirements.txt /tmp/requirements/function.txt
RUN pip install --no-cache-dir --target "${LAMBDA_TASK_ROOT}" \
        -r /tmp/requirements/shared.txt -r /tmp/requirements/function.txt \
    && rm -rf /tmp/requirements

COPY shared/ ${LAMBDA_TASK_ROOT}/shared/
COPY functions/${FUNCTION}/ ${LAMBDA_TASK_ROOT}/

CMD ["app.handler"]
