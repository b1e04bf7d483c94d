from ecomops_common.http import serve
from returns_service.bootstrap import build_app
from returns_service.settings import ReturnsSettings


def main() -> None:
    settings = ReturnsSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
