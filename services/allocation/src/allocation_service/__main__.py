"""`python -m allocation_service` (the `allocation-service` command): serves until SIGTERM."""

from allocation_service.bootstrap import build_app
from allocation_service.settings import AllocationSettings
from ecomops_common.http import service_main

main = service_main(build_app, AllocationSettings)

if __name__ == "__main__":
    main()
