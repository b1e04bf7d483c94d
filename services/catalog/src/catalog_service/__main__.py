"""`python -m catalog_service` (the `catalog-service` command): serves until SIGTERM."""

from catalog_service.bootstrap import build_app
from catalog_service.settings import CatalogSettings
from ecomops_common.http import service_main

main = service_main(build_app, CatalogSettings)

if __name__ == "__main__":
    main()
