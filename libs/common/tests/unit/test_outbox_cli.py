from ecomops_common import outbox_cli


def test_a_database_without_the_outbox_is_said_so_not_a_traceback(tmp_path, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'elsewhere.db'}"
    assert outbox_cli.main(["list", "--database-url", url]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"cannot read the parked outbox rows at {url}: ") and "no such table" in error
