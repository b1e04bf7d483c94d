"""`python -m supply_service` (the `supply-service` command): serves until SIGTERM."""

from ecomops_common.http import service_main
from supply_service.bootstrap import build_app
from supply_service.settings import SupplySettings

main = service_main(build_app, SupplySettings)

if __name__ == "__main__":
    main()
