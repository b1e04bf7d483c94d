"""Waves are released when full, close to the carrier cut-off, or by a supervisor, and only once."""

from datetime import UTC, datetime, time, timedelta

import pytest

from warehouse_service.domain.waves import Wave, WaveAlreadyReleased, WaveRules, WaveStatus

NOON = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_the_next_cut_off_is_today_or_tomorrow():
    rules = WaveRules(cutoffs=(("express", time(14)), ("standard", time(11))))
    assert rules.cutoff_after("express", NOON) == NOON.replace(hour=14)
    assert rules.cutoff_after("standard", NOON) == NOON.replace(hour=11) + timedelta(days=1)
    assert rules.cutoff_after("same_day", NOON) == rules.cutoff_after("standard", NOON)


def test_a_wave_is_due_when_full_or_close_to_its_cut_off():
    rules = WaveRules(size=3, lead=timedelta(minutes=30))
    wave = Wave("w1", "BER1", "express", NOON.replace(hour=14), tasks=2)
    assert not rules.due(wave, NOON)
    assert rules.due(wave, NOON.replace(hour=13, minute=30))
    wave.tasks = 3
    assert rules.due(wave, NOON)


def test_a_wave_is_released_once():
    wave = Wave("w1", "BER1", "standard", NOON)
    wave.release("supervisor:jane", NOON)
    assert (wave.status, wave.released_by) == (WaveStatus.released, "supervisor:jane")
    with pytest.raises(WaveAlreadyReleased):
        wave.release("rule", NOON)
