"""The console's pure parts: PKCE, the csrf check, where a sign-in may return to, and the SVG charts."""

import base64
import hashlib
import re
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime

import pytest

from control_service.entrypoints.charts import bar_chart, line_chart, nice_ceiling
from control_service.entrypoints.console import _kpi_chart
from control_service.service_layer.console_sessions import (
    HOME,
    code_challenge,
    csrf_matches,
    new_code_verifier,
    safe_next,
)

SVG = "{http://www.w3.org/2000/svg}"


def test_the_code_verifier_is_long_random_and_of_the_unreserved_characters():
    verifiers = {new_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert re.fullmatch(r"[A-Za-z0-9._~-]+", verifier)


def test_the_challenge_is_s256_of_rfc_7636():
    rfc_example = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636, appendix B
    assert code_challenge(rfc_example) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verifier = new_code_verifier()
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert code_challenge(verifier) == expected and "=" not in expected


@pytest.mark.parametrize(("given", "ok"), [
    ("token-1", True), ("token-2", False), ("", False), (None, False), ("token-1 ", False), ("tökén", False),
    ("\udcff", False)])
def test_a_form_passes_only_with_the_sessions_csrf_token(given, ok):
    assert csrf_matches("token-1", given) is ok


@pytest.mark.parametrize("target", [
    "/console/", "/console", "/console/inbox?kind=order_hold&node=WH1", "/console/orders/o-1",
    "/console/kpis/fill_rate?from=2026-11-01T00%3A00"])
def test_a_sign_in_returns_to_a_console_page(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", [
    None, "", "https://evil.example/console/", "//evil.example/console/", "/\\evil.example", "\\\\evil.example",
    "http:/console/", "javascript:alert(1)", "/consolex", "/v1/orders", "/other", "console/inbox",
    "/console/\r\nSet-Cookie: x=1", "/console/\x00", "/console/login?next=/console/", "/console/logout",
    "/console/callback?code=x", "/console/" + "a" * 600])
def test_a_sign_in_never_returns_to_another_site_or_a_sign_in_route(target):
    assert safe_next(target) == HOME


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (-3, 1), (0.3, 0.5), (1, 1), (7, 10), (12, 20), (450, 500),
                                                (1001, 2000), (float("nan"), 1)])
def test_the_axis_ends_at_a_round_number(value, ceiling):
    assert nice_ceiling(value) == pytest.approx(ceiling)


def parsed(svg) -> ElementTree.Element:
    return ElementTree.fromstring(str(svg))


def test_a_line_chart_is_valid_svg_with_one_line_per_series_and_exact_values_in_titles():
    svg = parsed(line_chart(["11-19", "11-20", "11-21"], {"placed": [3, 10, 7], "shipped": [0, 4, None]},
                            title="Orders per day"))
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img" and svg.get("aria-label") == "Orders per day"
    series = {group.get("data-series"): group for group in svg.iter(f"{SVG}g")}
    assert set(series) == {"placed", "shipped"}
    placed_points = series["placed"].find(f"{SVG}polyline").get("points").split()
    assert len(placed_points) == 3
    # the top of the axis is 10: the highest point is drawn at the top of the plot
    assert min(float(point.split(",")[1]) for point in placed_points) == pytest.approx(12.0)
    titles = [title.text for title in series["shipped"].iter(f"{SVG}title")]
    assert titles == ["shipped 11-19: 0", "shipped 11-20: 4"]  # a missing value is a gap, not a zero


def test_a_line_chart_escapes_its_text_and_draws_nothing_without_data():
    svg = line_chart(["<b>"], {"a&b": [1]}, title='"quoted" <title>')
    assert "<b>" not in str(svg) and "&lt;b&gt;" in str(svg) and "a&amp;b" in str(svg)
    parsed(svg)
    empty = parsed(line_chart([], {}, title="nothing"))
    assert any(text.text == "No data" for text in empty.iter(f"{SVG}text"))


def test_a_bar_chart_draws_bars_in_proportion():
    svg = parsed(bar_chart([("size_fit", 0.2), ("damaged", 0.1), ("other", None)], title="By reason",
                           shown=lambda v: f"{v * 100:.0f} %"))
    widths = {group.get("data-label"): float(group.find(f"{SVG}rect").get("width")) for group in svg.iter(f"{SVG}g")}
    assert widths["size_fit"] == pytest.approx(2 * widths["damaged"]) and widths["other"] == 0
    assert [title.text for title in svg.iter(f"{SVG}title")][1:] == ["size_fit: 20 %", "damaged: 10 %", "other: 0 %"]


def test_a_kpi_chart_draws_a_line_per_carrier_and_service():
    day = datetime(2026, 11, 20, tzinfo=UTC)
    rows = [{"period": day, "carrier": "dhl", "service": "ground", "value": 0.5, "avg_days_late": None},
            {"period": day, "carrier": "dhl", "service": "express", "value": 1.0, "avg_days_late": None}]
    svg = parsed(_kpi_chart("Promised versus actual delivery", rows))
    assert {group.get("data-series") for group in svg.iter(f"{SVG}g")} == {"dhl / ground", "dhl / express"}
    assert svg.get("aria-label").endswith("value per period by carrier and service")
