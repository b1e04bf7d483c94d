# One image for every service: the command picks it (`python -m order_service`, ... `python -m control_service`,
# `payment-simulator`, `carrier-simulator`), as docker-compose.yml does. Build from the repo root:
#
#   docker build --build-arg VERSION="$(git describe --always)" --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg SOURCE=<repository URL> -t ecomops/service:dev .
#
# tests/infra/test_dockerfile.py checks this file without Docker; scripts/check_runtime.sh (`make lint`) installs
# and starts the project the way the build stage installs it.

# An exact release, so a rebuild gets the same Python and Debian. To refresh: take the newest
# 3.11.x-slim-bookworm tag of the official python image; to pin further, append the digest that
# `docker buildx imagetools inspect python:<tag>` prints (python:<tag>@sha256:...).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- build: the locked dependencies, then the workspace, into a self-contained virtualenv ---------------------
FROM ${PYTHON_IMAGE} AS build
# Same uv as the dev bootstrap (Makefile); never download a Python, use the image's.
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11
WORKDIR /app
# Dependencies first, in a layer of their own (uv's documented pattern): only the lock and the members'
# pyproject.toml files, so editing the code does not reinstall them. One COPY per workspace member.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/order/pyproject.toml services/order/
COPY services/allocation/pyproject.toml services/allocation/
COPY services/warehouse/pyproject.toml services/warehouse/
COPY services/returns/pyproject.toml services/returns/
COPY services/finance/pyproject.toml services/finance/
COPY services/control/pyproject.toml services/control/
COPY services/catalog/pyproject.toml services/catalog/
COPY services/supply/pyproject.toml services/supply/
COPY services/shipping/pyproject.toml services/shipping/
# --frozen: exactly uv.lock; --no-dev: no test tools; --no-editable: the venv must not point at /app/libs or
# /app/services, which the runtime stage does not have.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace
COPY libs/ libs/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime: the venv only, no uv, no sources, no root -----------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=""
ARG SOURCE=""
LABEL org.opencontainers.image.title="ecomops" \
      org.opencontainers.image.description="Order, allocation, warehouse, returns, finance, control, catalog, supply and shipping services on Kafka" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="NOASSERTION"
# A numeric user, so Kubernetes can verify runAsNonRoot. It owns only the default data dir (SQLite when no
# database URL is set); the code stays read-only to it.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app app \
    && mkdir -p /app/.local/data && chown 10001:10001 /app/.local/data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER 10001:10001
# order, allocation, warehouse, returns, finance, control (the ops console), catalog, supply, shipping; the payment
# and carrier simulators.
EXPOSE 8001 8002 8003 8004 8005 8006 8007 8008 8009 8090 8091
# Whichever of them the container runs: ecomops-healthcheck finds the port it listens on (see its docstring).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=6 CMD ["ecomops-healthcheck"]
