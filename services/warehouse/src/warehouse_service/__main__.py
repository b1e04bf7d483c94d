"""`python -m warehouse_service` (the `warehouse-service` command): serves until SIGTERM."""

from ecomops_common.http import service_main
from warehouse_service.bootstrap import build_app
from warehouse_service.settings import WarehouseSettings

main = service_main(build_app, WarehouseSettings)

if __name__ == "__main__":
    main()
