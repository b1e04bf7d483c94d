"""`python -m shipping_service` (the `shipping-service` command): serves until SIGTERM."""

from ecomops_common.http import service_main
from shipping_service.bootstrap import build_app
from shipping_service.settings import ShippingSettings

main = service_main(build_app, ShippingSettings)

if __name__ == "__main__":
    main()
