# One image per function: docker build -f images/lambda-python.Dockerfile --build-arg FUNCTION=<dir> .
# The AWS base image carries the runtime interface client and the RIE, so the same image runs
# locally (docker run -p 9001:8080 ...) and in AWS Lambda.
FROM public.ecr.aws/lambda/python:3.13

ARG FUNCTION
# botocore service models to keep (template.yaml: those the function's policies allow); empty keeps all.
ARG AWS_SERVICES=""
RUN test -n "${FUNCTION}" || (echo "build arg FUNCTION (a folder under functions/) is required" >&2 && exit 1)

COPY shared/requirements.txt /tmp/requirements/shared.txt
COPY functions/${FUNCTION}/requirements.txt /tmp/requirements/function.txt
# botocore lists every service model directory (about 450) on the first client of each kind, about
# 40 ms of every cold start, and they take 27 MB; the function's role can call only its own services.
# Pruned in the install layer, so the image does not carry them either.
RUN pip install --no-cache-dir --target "${LAMBDA_TASK_ROOT}" \
        -r /tmp/requirements/shared.txt -r /tmp/requirements/function.txt \
    && rm -rf /tmp/requirements \
    && models="${LAMBDA_TASK_ROOT}/botocore/data" \
    && for service in ${AWS_SERVICES}; do \
        test -d "${models}/${service}" || { echo "AWS_SERVICES: botocore has no model '${service}'" >&2; exit 1; }; \
    done \
    && if [ -n "${AWS_SERVICES}" ]; then \
        for dir in "${models}"/*/; do \
            name="$(basename "${dir}")"; \
            case " ${AWS_SERVICES} " in *" ${name} "*) ;; *) rm -rf "${dir}" ;; esac; \
        done; \
    fi

COPY shared/ ${LAMBDA_TASK_ROOT}/shared/
COPY functions/${FUNCTION}/ ${LAMBDA_TASK_ROOT}/

CMD ["app.handler"]
