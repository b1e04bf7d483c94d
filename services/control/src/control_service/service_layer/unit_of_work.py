"""The control service's unit of work: the read model it writes (projection) and reads (read_model)."""

from typing import Protocol

from control_service.adapters.read_model import ReadModel
from control_service.adapters.repository import ProjectionRepository
from ecomops_common.unit_of_work import SqlUnitOfWork, UnitOfWork


class ControlUnitOfWork(UnitOfWork, Protocol):
    projection: ProjectionRepository
    read_model: ReadModel


class SqlControlUnitOfWork(SqlUnitOfWork):
    repositories = {"projection": ProjectionRepository, "read_model": ReadModel}
    projection: ProjectionRepository
    read_model: ReadModel
