import uvicorn

from allocation_service.bootstrap import build_app
from allocation_service.settings import AllocationSettings


def main() -> None:
    settings = AllocationSettings()
    uvicorn.run(build_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None, access_log=False, timeout_graceful_shutdown=20)


if __name__ == "__main__":
    main()
