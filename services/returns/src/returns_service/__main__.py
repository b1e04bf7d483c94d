"""`python -m returns_service` (the `returns-service` command): serves until SIGTERM."""

from ecomops_common.http import service_main
from returns_service.bootstrap import build_app
from returns_service.settings import ReturnsSettings

main = service_main(build_app, ReturnsSettings)

if __name__ == "__main__":
    main()
