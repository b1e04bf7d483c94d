"""Which failures are transient (retry, never skip) and the backoff used while they last."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, _TRANSIENT):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    # asyncpg raises its own connection errors, wrapped by SQLAlchemy as DBAPIError
    cause = error.__cause__ or error.__context__
    return cause is not None and cause is not error and type(cause).__name__ in {
        "ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
        "InterfaceError", "TooManyConnectionsError", "AdminShutdownError",
    }


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
