"""Configuration from the environment and `.env` (docs/api.md §2)."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from peerview.clock import FakeClock
from peerview.config import Settings, get_settings
from tests.platform.apps import client_for, extra_app

LONG_SECRET = "a-production-secret-that-is-long-enough-0123456789"
DURATIONS = {
    "ACCESS_TOKEN_MINUTES": "access_token_minutes",
    "REQUEST_EXPIRY_BUFFER_HOURS": "request_expiry_buffer_hours",
    "SESSION_HARD_BUFFER_MINUTES": "session_hard_buffer_minutes",
    "SESSION_EARLY_START_MINUTES": "session_early_start_minutes",
    "NO_SHOW_MINUTES": "no_show_minutes",
    "CRON_INTERVAL_MINUTES": "cron_interval_minutes",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No variable or `.env` of the machine running the tests leaks into these."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_production_without_jwt_secret_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERVIEW_ENV", "production")
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings()


def test_production_with_a_blank_jwt_secret_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PEERVIEW_ENV", "production")
    monkeypatch.setenv("JWT_SECRET", "   ")
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings()


def test_production_with_a_short_jwt_secret_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PEERVIEW_ENV", "production")
    monkeypatch.setenv("JWT_SECRET", "too-short")
    with pytest.raises(ValidationError, match="at least"):
        Settings()


def test_production_with_a_long_jwt_secret_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERVIEW_ENV", "production")
    monkeypatch.setenv("JWT_SECRET", LONG_SECRET)
    settings = Settings()
    assert settings.signing_secret() == LONG_SECRET


def test_development_without_jwt_secret_generates_one_and_keeps_it(tmp_path: Path) -> None:
    first = Settings().signing_secret()
    assert len(first) >= 32
    kept = tmp_path / ".jwt_secret"
    assert kept.read_text().strip() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    # A restart (a new Settings) signs with the same key, so issued tokens stay valid.
    assert Settings().signing_secret() == first


@pytest.mark.parametrize("variable", sorted(DURATIONS))
def test_duration_variables_accept_decimals(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "0.05")
    assert getattr(Settings(), DURATIONS[variable]) == pytest.approx(0.05)


def test_spec_defaults() -> None:
    settings = Settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 5000)
    assert settings.database_url == "sqlite+aiosqlite:///./peerview.db"
    assert settings.access_token_minutes == 60
    assert settings.request_expiry_buffer_hours == 5
    assert settings.session_hard_buffer_minutes == 30
    assert settings.session_early_start_minutes == 15
    assert settings.no_show_minutes == 30
    assert settings.cron_interval_minutes == 5
    assert settings.redis_url is None
    assert settings.cors_origin_list == []
    assert settings.trusted_proxy_networks == ()


def test_write_limits_default_to_60_and_600_for_admins_and_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings()
    assert (settings.write_rate_limit_per_minute, settings.write_rate_limit_admin_per_minute) == (
        60,
        600,
    )
    monkeypatch.setenv("WRITE_RATE_LIMIT_ADMIN_PER_MINUTE", "1200")
    assert Settings().write_rate_limit_admin_per_minute == 1200
    monkeypatch.setenv("WRITE_RATE_LIMIT_ADMIN_PER_MINUTE", "0")  # off for admins
    assert Settings().write_rate_limit_admin_per_minute == 0
    monkeypatch.setenv("WRITE_RATE_LIMIT_ADMIN_PER_MINUTE", "-1")
    with pytest.raises(ValidationError):
        Settings()


def test_port_and_database_url_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("HOST", "0.0.0.0")  # noqa: S104 (a value under test, not a bind)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://peerview@db.internal/peerview")
    settings = Settings()
    assert settings.port == 8123
    assert settings.host == "0.0.0.0"  # noqa: S104
    assert settings.database_url == "postgresql+asyncpg://peerview@db.internal/peerview"
    assert not settings.is_sqlite


def test_dotenv_file_is_honoured(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "PORT=6001\nACCESS_TOKEN_MINUTES=0.5\nCORS_ORIGINS=https://a.example, https://b.example\n"
    )
    settings = Settings()
    assert settings.port == 6001
    assert settings.access_token_minutes == 0.5
    assert settings.cors_origin_list == ["https://a.example", "https://b.example"]


def test_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=6001\n")
    monkeypatch.setenv("PORT", "7002")
    assert Settings().port == 7002


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in (("PORT", "70000"), ("ACCESS_TOKEN_MINUTES", "0"), ("PORT", "x")):
        monkeypatch.setenv(variable, value)
        with pytest.raises(ValidationError):
            Settings()
        monkeypatch.delenv(variable)


def test_trusted_proxies_take_addresses_and_networks_of_both_families(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::1, ")
    networks = [str(n) for n in Settings().trusted_proxy_networks]
    assert networks == ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "::1/128"]


def test_blank_trusted_proxies_trust_no_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "  ")
    settings = Settings()
    assert settings.trusted_proxies is None
    assert settings.trusted_proxy_networks == ()


@pytest.mark.parametrize(
    ("value", "culprit"),
    [
        ("proxy.internal", "proxy.internal"),
        ("*", "*"),
        ("10.0.0.0/8; 10.1.0.0/16", "10.0.0.0/8; 10.1.0.0/16"),
        ("300.1.1.1", "300.1.1.1"),
        ("10.0.0.0/33", "10.0.0.0/33"),
        ("2001:db8::/129", "2001:db8::/129"),
        ("10.0.0.1/8", "10.0.0.1/8"),
        ("10.0.0.0/8, nope", "nope"),
    ],
)
def test_invalid_trusted_proxies_refuse_to_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str, culprit: str
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES") as refused:
        Settings()
    assert repr(culprit) in str(refused.value)


def test_get_settings_is_one_cached_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("PORT", "6100")
        assert get_settings() is get_settings()
        assert get_settings().port == 6100
    finally:
        get_settings.cache_clear()


async def test_docs_disabled_hides_docs_and_openapi(settings: Settings, clock: FakeClock) -> None:
    hidden = settings.model_copy(update={"docs_enabled": False})
    async with extra_app(hidden, clock) as app, client_for(app) as c:
        for path in ("/docs", "/openapi.json", "/redoc"):
            assert (await c.get(path)).status_code == 404, path
        assert (await c.get("/api/health")).status_code == 200


async def test_docs_enabled_serves_docs_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert schema["openapi"].startswith("3.")
    assert "/api/auth/login" in schema["paths"]
