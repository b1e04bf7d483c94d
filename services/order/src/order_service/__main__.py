from ecomops_common.http import serve
from order_service.bootstrap import build_app
from order_service.settings import OrderSettings


def main() -> None:
    settings = OrderSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
