"""Settings read from the environment and `.env` (docs/api.md §2), with one cached instance."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from peerview.proxies import Network, parse_networks

MIN_SECRET_LENGTH = 32
DEV_SECRET_FILE = Path(".jwt_secret")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    peerview_env: Literal["development", "production", "test"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=5000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    # This instance's name behind a load balancer: it begins every Socket.IO session id
    # (`<node>-<pid>.…`), so the balancer can send a session's requests to the instance that
    # holds it (docs/deploy.md). Letters and digits only; unset for a single instance.
    node_name: str = Field(default="", pattern=r"^[A-Za-z0-9]{0,32}$")
    database_url: str = "sqlite+aiosqlite:///./peerview.db"
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)
    # PostgreSQL: how long opening a connection may take before the request gets a 503. A
    # server that accepts and then says nothing (frozen, a half-open network) holds no request
    # longer than this.
    database_connect_timeout_seconds: float = Field(default=5, gt=0)
    jwt_secret: str | None = None
    access_token_minutes: float = Field(default=60, gt=0)
    request_expiry_buffer_hours: float = Field(default=5, ge=0)
    session_hard_buffer_minutes: float = Field(default=30, ge=0)
    session_early_start_minutes: float = Field(default=15, ge=0)
    no_show_minutes: float = Field(default=30, gt=0)
    cron_interval_minutes: float = Field(default=5, gt=0)
    redis_url: str | None = None
    cors_origins: str | None = None
    # Comma-separated addresses and CIDR networks of the reverse proxies whose
    # X-Forwarded-For names the client (peerview.proxies); unset trusts no one.
    trusted_proxies: str | None = Field(
        default=None,
        description=(
            "Comma-separated IP addresses or CIDR networks (IPv4 and IPv6) of reverse proxies "
            "whose X-Forwarded-For is believed for the client address; unset trusts none."
        ),
    )
    # Comma-separated STUN URLs handed to browsers in the join payload.
    stun_urls: str | None = "stun:stun.l.google.com:19302"
    # TURN relay (coturn `use-auth-secret`): short-lived credentials handed out on join.
    turn_secret: str | None = None
    turn_urls: str | None = None
    turn_ttl_seconds: int = Field(default=3600, ge=1)
    # E-mail notifications: `smtp://[user:password@]host[:port][?starttls=false]` or `smtps://…`.
    smtp_url: str | None = None
    smtp_from: str = "Peerview <no-reply@peerview.invalid>"
    smtp_timeout_seconds: float = Field(default=10, gt=0)
    mailer_interval_seconds: float = Field(default=30, gt=0)
    # Socket.IO: a per-socket token bucket, the largest message accepted, and the Redis
    # pub/sub channel (channels are shared by every Redis database, so it must be distinct).
    socket_rate_per_second: float = Field(default=50, gt=0)
    socket_burst: int = Field(default=100, ge=1)
    socket_max_message_bytes: int = Field(default=64 * 1024, ge=1024)
    socketio_channel: str = "peerview-socketio"
    # The code pad (docs/api.md §5.7): the text's size in UTF-8 bytes, one update's and one
    # awareness message's decoded size, updates per second per socket (burst twice that),
    # and how many appended updates are merged into the snapshot at once.
    code_max_bytes: int = Field(default=256 * 1024, ge=1)
    code_max_update_bytes: int = Field(default=32 * 1024, ge=64)
    code_max_awareness_bytes: int = Field(default=4096, ge=64)
    code_updates_per_second: float = Field(default=30, gt=0)
    code_compact_every: int = Field(default=200, ge=1)
    # The AI interviewer (docs/api.md §13): an OpenAI-compatible Chat Completions endpoint
    # (OpenAI, Ollama, vLLM, llama.cpp: `…/v1`); unset, practice runs the built-in interviewer.
    llm_base_url: str | None = None
    llm_api_key: str | None = Field(default=None, repr=False)
    llm_model: str = Field(default="gpt-4o-mini", min_length=1, max_length=200)
    llm_timeout_seconds: float = Field(default=30, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    # Tokens (prompt and reply, as the model counts them) one practice session may spend, the
    # longest reply asked for, and the practice sessions a user may start per UTC day.
    ai_max_tokens_per_session: int = Field(default=40_000, ge=0)
    ai_max_reply_tokens: int = Field(default=400, ge=16)
    ai_sessions_per_user_per_day: int = Field(default=5, ge=0)
    # How often each process looks for practice sessions to warn (5 minutes before the
    # planned end) and ended ones still without feedback.
    practice_tick_seconds: float = Field(default=10, gt=0)
    # Login throttling (docs/api.md §3): failures counted over a sliding window.
    login_window_minutes: float = Field(default=15, gt=0)
    login_max_failures_per_account: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=100, ge=1)
    # Writes (POST, PUT, PATCH, DELETE) one authenticated user may make under /api in any
    # sliding minute; the next is 429 TOO_MANY_REQUESTS with Retry-After. Counted in Redis
    # when REDIS_URL is set (shared by every process), else per process; 0 turns it off.
    # Login and registration are not counted here: login has its own throttling.
    write_rate_limit_per_minute: int = Field(
        default=60,
        ge=0,
        description=(
            "Writes (POST, PUT, PATCH, DELETE under /api) one authenticated user may make "
            "in any sliding minute before 429 TOO_MANY_REQUESTS with Retry-After; 0 is off."
        ),
    )
    # Admins have a budget of their own: editing the question bank or the users by hand takes
    # many more writes in a minute than taking part in interviews does.
    write_rate_limit_admin_per_minute: int = Field(
        default=600,
        ge=0,
        description=(
            "The same limit for admins (their role read from the database on each request) "
            "in place of WRITE_RATE_LIMIT_PER_MINUTE; 0 is off."
        ),
    )
    # Argon2id cost; defaults are OWASP's minimum for argon2id.
    argon2_memory_kib: int = Field(default=19456, ge=19456)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)
    password_hash_workers: int = Field(default=0, ge=0)
    docs_enabled: bool = True
    metrics_token: str | None = None
    sweeper_enabled: bool = True
    sweeper_batch_size: int = Field(default=500, ge=1)
    log_level: str = "INFO"

    @field_validator(
        "jwt_secret",
        "redis_url",
        "cors_origins",
        "trusted_proxies",
        "metrics_token",
        "turn_secret",
        "turn_urls",
        "smtp_url",
        "llm_base_url",
        "llm_api_key",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses_or_networks(cls, value: str | None) -> str | None:
        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(f"TRUSTED_PROXIES: {exc}") from None
        return value

    @model_validator(mode="after")
    def _production_needs_a_real_secret(self) -> Settings:
        if self.peerview_env == "production":
            if self.jwt_secret is None:
                raise ValueError("JWT_SECRET must be set when PEERVIEW_ENV=production")
            if len(self.jwt_secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters in production"
                )
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        if not self.cors_origins:
            return []
        return [o.strip() for o in self.cors_origins.split(",") if o.strip() and o.strip() != "*"]

    @property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def signing_secret(self) -> str:
        """The JWT key; in development an unset secret is generated once and kept on disk."""
        if self.jwt_secret is not None:
            return self.jwt_secret
        if DEV_SECRET_FILE.exists():
            stored = DEV_SECRET_FILE.read_text().strip()
            if len(stored) >= MIN_SECRET_LENGTH:
                self.jwt_secret = stored
                return stored
        generated = secrets.token_urlsafe(48)
        DEV_SECRET_FILE.write_text(generated + "\n")
        DEV_SECRET_FILE.chmod(0o600)
        self.jwt_secret = generated
        return generated


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
