import asyncpg.exceptions as pg
import pytest
from aiokafka.errors import GroupCoordinatorNotAvailableError, KafkaConnectionError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ecomops_common.resilience import is_transient


class AdapterError(Exception):
    """Like SQLAlchemy's asyncpg adapter error: no SQLSTATE of its own, the driver's error as cause."""


def wrapped(driver_error: BaseException) -> DBAPIError:
    """The chain SQLAlchemy builds: DBAPIError <- adapter error <- asyncpg error."""
    try:
        try:
            raise driver_error
        except BaseException as raised:
            raise AdapterError(str(raised)) from raised
    except AdapterError as adapter:
        return DBAPIError("SELECT 1", {}, adapter)


@pytest.mark.parametrize("driver_error", [
    pg.CannotConnectNowError("the database system is starting up"),
    pg.AdminShutdownError("terminating connection due to administrator command"),
    pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    pg.TooManyConnectionsError("sorry, too many clients already"),
    pg.SerializationError("could not serialize access"),
    pg.DeadlockDetectedError("deadlock detected"),
    pg.InterfaceError("connection is closed"),
    ConnectionRefusedError(111, "Connection refused"),
])
def test_outages_and_retryable_database_errors_are_transient(driver_error):
    assert is_transient(wrapped(driver_error))


@pytest.mark.parametrize("error", [
    KafkaConnectionError(), GroupCoordinatorNotAvailableError(), TimeoutError(),
    OperationalError("SELECT 1", {}, ConnectionError("gone")),
])
def test_broker_and_network_errors_are_transient(error):
    assert is_transient(error)


@pytest.mark.parametrize("error", [
    wrapped(pg.UniqueViolationError("duplicate key")),
    wrapped(pg.InvalidCatalogNameError('database "x" does not exist')),
    IntegrityError("INSERT", {}, ValueError("constraint")),
    ValueError("a bug"),
])
def test_bugs_and_data_errors_are_not_transient(error):
    assert not is_transient(error)
