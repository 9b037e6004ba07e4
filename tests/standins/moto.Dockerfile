# Stand-in for motoserver/moto (see README.md). Built by build.sh only.
FROM python:3.13-slim

ARG MOTO_VERSION
RUN pip install --no-cache-dir --quiet "moto[server]==${MOTO_VERSION}"
LABEL org.lambda-container-images.standin="true"
EXPOSE 5000
ENTRYPOINT ["moto_server", "-H", "0.0.0.0"]
