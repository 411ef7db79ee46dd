# BorderWatch on the official Airflow image, with exactly the dependency versions in uv.lock.
#
#   docker compose build        (compose tags it borderwatch-airflow:local)
#
# Stage 1 turns uv.lock into a hashed requirements file (runtime dependencies only, not dev tools);
# stage 2 installs it into the Airflow image with pip's hash checking, then the borderwatch package itself
# (no dependencies: they are already pinned); nothing is installed when a container starts.

ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
ARG UV_VERSION=0.13.8

FROM python:3.11-slim AS requirements
ARG UV_VERSION
WORKDIR /src
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
COPY pyproject.toml uv.lock README.md ./
RUN uv export --frozen --no-dev --no-emit-project --format requirements-txt -o /src/requirements.txt

FROM ${AIRFLOW_IMAGE}
ENV BORDERWATCH_APP=/opt/borderwatch/app \
    BORDERWATCH_HOME=/opt/borderwatch/home \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/borderwatch/app/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    BORDERWATCH_FEEDS_DIR=/opt/borderwatch/app/feeds \
    BORDERWATCH_DBT_PROJECT_DIR=/opt/borderwatch/app/dbt_project \
    BORDERWATCH_EXPECTATIONS_DIR=/opt/borderwatch/app/expectations

COPY --from=requirements /src/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt

USER root
# The home is owned by the runtime user and group-writable for gid 0 with setgid, the way the Airflow image
# treats its own directories: a named volume mounted here starts with this ownership, so the init service
# (which runs as the runtime uid, never root) and every other service can write it, whatever AIRFLOW_UID is.
RUN mkdir -p /opt/borderwatch/app /opt/borderwatch/home \
    && chown -R airflow:0 /opt/borderwatch \
    && chmod 2775 /opt/borderwatch/home
USER airflow
WORKDIR /opt/borderwatch/app
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
COPY --chown=airflow:0 src ./src
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 feeds ./feeds
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 seeds ./seeds
COPY --chown=airflow:0 expectations ./expectations
RUN pip install --no-cache-dir --no-deps .
