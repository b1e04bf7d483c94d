from ecomops_common.http import serve
from finance_service.bootstrap import build_app
from finance_service.settings import FinanceSettings


def main() -> None:
    settings = FinanceSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
