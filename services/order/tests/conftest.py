import pytest

from ecomops_common.testing.samples import channel_order


@pytest.fixture
def order_json():
    """A valid channel order (the README's example); each call gives a fresh copy to change."""
    return channel_order
