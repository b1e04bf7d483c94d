"""`python -m ecomops_common.outbox_cli`: a service's parked outbox rows: list, requeue after a fix, discard.

A row is parked when the broker can never take it as it is (e.g. larger than the topic's maximum
message size); `ecomops_outbox_parked` counts them. After the fix (a larger max.message.bytes on the
topic, a corrected row), `requeue` puts the row back where it was in the outbox and the relay sends it,
before any later event of its aggregate still pending. `discard` deletes an event that must never go out.

The database is the service's own: `--service order` reads ORDER_DATABASE_URL (or the service's default
SQLite file), `--database-url` names it directly.
"""

import argparse
import asyncio
import json
import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from ecomops_common.db import Database
from ecomops_common.outbox import discard_parked, parked_rows, requeue_parked
from ecomops_common.settings import ServiceSettings


def database_url(service: str | None, url: str | None) -> str:
    if url:
        return url
    return ServiceSettings(service_name=service, _env_prefix=f"{service.upper()}_").database_url


def format_table(rows: list[dict]) -> str:
    header = ("PARKED AT", "EVENT ID", "TYPE", "AGGREGATE", "TOPIC", "BYTES", "ERROR")
    lines = [header] + [(row["parked_at"].isoformat(timespec="seconds"), row["id"], row["type"], row["aggregateid"],
                         row["topic"], str(len(row["payload"].encode())), " ".join(row["error"].split()))
                        for row in rows]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header) - 1)]
    return "\n".join("  ".join([*(cell.ljust(width) for cell, width in zip(line, widths, strict=False)), line[-1]])
                     for line in lines)


async def run(args: argparse.Namespace) -> int:
    url = database_url(args.service, args.database_url)
    database = Database(url)
    try:
        return await _run(args, database)
    except (OperationalError, ProgrammingError, OSError) as error:
        # A wrong or unreachable database, or one no service has started on yet (no outbox_parked table).
        where = make_url(url).render_as_string(hide_password=True)
        print(f"cannot read the parked outbox rows at {where}: {str(error).splitlines()[0]}\n"
              "name the service's database: --service with <SERVICE>_DATABASE_URL set (with `make up`: "
              'eval "$(scripts/infra/env.sh)" first, or `make outbox SERVICE=order`), or --database-url',
              file=sys.stderr)
        return 2
    finally:
        await database.dispose()


async def _run(args: argparse.Namespace, database: Database) -> int:
    async with database.sessions() as session, session.begin():
        if args.command == "list":
            rows = await parked_rows(session)
            if args.json:
                for row in rows:
                    print(json.dumps(row, default=str, ensure_ascii=False))
            else:
                print(format_table(rows) if rows else "no parked outbox rows")
            return 0
        wanted = None if args.command == "requeue" and args.all else args.event_id
        done = await (requeue_parked(session, wanted) if args.command == "requeue"
                      else discard_parked(session, wanted))
    verb = "requeued" if args.command == "requeue" else "discarded"
    for event_id in done:
        print(f"{verb} {event_id}")
    missing = sorted(set(wanted or ()) - set(done))
    for event_id in missing:
        print(f"not parked: {event_id}", file=sys.stderr)
    print(f"{verb} {len(done)}")
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecomops_common.outbox_cli", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    database = argparse.ArgumentParser(add_help=False)
    where = database.add_mutually_exclusive_group(required=True)
    where.add_argument("--service", help="order, allocation, ...: reads <SERVICE>_DATABASE_URL")
    where.add_argument("--database-url", help="the service's database, e.g. postgresql+asyncpg://...")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", parents=[database], help="parked rows with their error, oldest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per row, payload included")
    requeue = commands.add_parser("requeue", parents=[database], help="put parked rows back into the outbox")
    requeue.add_argument("event_id", nargs="*", help="event ids (EVENT ID in the list)")
    requeue.add_argument("--all", action="store_true", help="every parked row")
    discard = commands.add_parser("discard", parents=[database], help="delete parked rows for good")
    discard.add_argument("event_id", nargs="+", help="event ids (EVENT ID in the list)")
    args = parser.parse_args(argv)
    if args.command == "requeue" and args.all == bool(args.event_id):
        requeue.error("name event ids or --all")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
