"""`python -m control_service` (the `control-service` command): serves until SIGTERM."""

from control_service.bootstrap import build_app
from control_service.settings import ControlSettings
from ecomops_common.http import service_main

main = service_main(build_app, ControlSettings)

if __name__ == "__main__":
    main()
