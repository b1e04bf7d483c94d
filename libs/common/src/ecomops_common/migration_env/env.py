"""Alembic's environment for every service: which service is in `config.attributes` (see ecomops_common.migrations)."""

from alembic import context

from ecomops_common.migrations import run_env

run_env(context.config.attributes["migrations"])
