"""`python -m finance_service` (the `finance-service` command): serves until SIGTERM."""

from ecomops_common.http import service_main
from finance_service.bootstrap import build_app
from finance_service.settings import FinanceSettings

main = service_main(build_app, FinanceSettings)

if __name__ == "__main__":
    main()
