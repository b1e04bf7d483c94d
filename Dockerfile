# One image for every service: docker-compose.yml picks the service with
# `command:` (e.g. `python -m order_service`). Build from the repo root.

# --- build: resolve the uv workspace into a self-contained virtualenv -------
FROM python:3.11-slim AS build
# Same uv as the dev bootstrap; never download a Python, use the image's.
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs/ libs/
COPY services/ services/
# --frozen: install exactly uv.lock; --no-editable: the venv must not point
# at /app/libs or /app/services, which the runtime stage does not have.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime: the venv only, no uv, no sources, no root ---------------------
FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --home-dir /app app
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER app
