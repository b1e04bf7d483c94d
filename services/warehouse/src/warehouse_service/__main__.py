from ecomops_common.http import serve
from warehouse_service.bootstrap import build_app
from warehouse_service.settings import WarehouseSettings


def main() -> None:
    settings = WarehouseSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
