"""Which failures are transient (retry, never skip) and the backoff used while they last."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiokafka.errors import (
    CoordinatorLoadInProgressError,
    GroupCoordinatorNotAvailableError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    NotCoordinatorForGroupError,
    RequestTimedOutError,
)
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

T = TypeVar("T")
log = logging.getLogger(__name__)

_TRANSIENT = (
    OperationalError,
    DisconnectionError,
    PoolTimeoutError,
    ConnectionError,
    OSError,
    TimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
    # a fresh broker creates its offsets topic on the first group request: coordinators come up shortly
    GroupCoordinatorNotAvailableError,
    CoordinatorLoadInProgressError,
    NotCoordinatorForGroupError,
    asyncpg.exceptions.InterfaceError,  # client side: the connection is closed or was lost
)


# SQLSTATE classes worth waiting out: connection exception (08), insufficient resources (53),
# operator intervention such as shutdown or "starting up" (57); and transactions to simply run again.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57")
_TRANSIENT_SQLSTATES = ("40001", "40P01")  # serialization failure, deadlock detected


def is_transient(error: BaseException) -> bool:
    """True for failures that pass (database or broker down, restarting, overloaded): retry, never skip.

    Drivers wrap each other's errors (SQLAlchemy around its asyncpg adapter around asyncpg), so the
    whole chain of causes is examined, and PostgreSQL errors are judged by their SQLSTATE.
    """
    current: BaseException | None = error
    for _ in range(8):
        if current is None:
            return False
        if isinstance(current, _TRANSIENT):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and (sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
                                          or sqlstate in _TRANSIENT_SQLSTATES):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


class Backoff:
    """Exponential backoff with jitter: 0.1 s doubling to `cap`."""

    def __init__(self, first: float = 0.1, cap: float = 5.0) -> None:
        self.first, self.cap, self.delay = first, cap, first

    def reset(self) -> None:
        self.delay = self.first

    async def sleep(self) -> None:
        await asyncio.sleep(self.delay * (0.5 + random.random() / 2))
        self.delay = min(self.cap, self.delay * 2)


async def retry_transient(operation: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Runs `operation` until it succeeds or fails for a non-transient reason."""
    backoff = Backoff()
    while True:
        try:
            return await operation()
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning("%s failed transiently, retrying in %.1fs: %s", what, backoff.delay, error)
            await backoff.sleep()
