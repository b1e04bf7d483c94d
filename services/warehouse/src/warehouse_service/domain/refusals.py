"""Why a scan cannot be applied."""


class ScanRefused(Exception):
    """The scan cannot be applied; `reason` is a stable code for the exception queue."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message
