from allocation_service.bootstrap import build_app
from allocation_service.settings import AllocationSettings
from ecomops_common.http import serve


def main() -> None:
    settings = AllocationSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
