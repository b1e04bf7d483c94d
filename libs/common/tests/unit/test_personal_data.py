"""Customers' personal data as callers who may not read it see it: enough to recognise a record, no more."""

import pytest

from ecomops_common.personal_data import masked_email, masked_phone, masked_text


@pytest.mark.parametrize(("mask", "value", "shown"), [
    (masked_text, "Ada Lovelace", "A***"),
    (masked_text, "12 Analytical Street", "1***"),
    (masked_text, "", ""),
    (masked_email, "ada.lovelace@example.com", "a***@example.com"),
    (masked_email, "not-an-email", "n***"),
    (masked_phone, "+44 20 7946 0958", "***58"),
    (masked_phone, "7", "***7"),
    (masked_phone, "", "***"),
])
def test_masks_keep_only_the_first_letter_the_email_domain_or_the_last_two_digits(mask, value, shown):
    assert mask(value) == shown


@pytest.mark.parametrize("mask", [masked_text, masked_email, masked_phone])
def test_nothing_stored_stays_nothing(mask):
    assert mask(None) is None


async def test_database_errors_never_carry_the_bound_values(tmp_path):
    """A failed statement's error (logged, answered as a dead letter's reason) names the statement, not the
    customer's data bound into it."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from ecomops_common.db import Database

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'customers.db'}")
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE customers (email TEXT PRIMARY KEY)"))
            insert = text("INSERT INTO customers (email) VALUES (:email)")
            await connection.execute(insert, {"email": "ada@example.com"})
            with pytest.raises(IntegrityError) as failure:
                await connection.execute(insert, {"email": "ada@example.com"})
        assert "INSERT INTO customers" in str(failure.value) and "ada@example.com" not in str(failure.value)
    finally:
        await database.dispose()
