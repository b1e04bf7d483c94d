"""`python -m order_service` (the `order-service` command): serves until SIGTERM."""

from ecomops_common.http import service_main
from order_service.bootstrap import build_app
from order_service.settings import OrderSettings

main = service_main(build_app, OrderSettings)

if __name__ == "__main__":
    main()
