"""All configuration, read from the environment (prefix `LEDGER_`) or a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from audit.cosigning import WitnessConfig, parse_witnesses
from audit.signed_note import NoteError
from ledger.errors import InvalidValue
from ledger.storage import persistence_env

#: the URL schemes of PostgreSQL, the one store with streaming replicas
POSTGRESQL = ("postgresql", "postgres")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/ledger.db",
        description="sqlite:///path/to/file.db (embedded) or postgresql://user:pass@host:port/db",
    )
    read_database_url: str | None = Field(
        default=None,
        description="postgresql://user:pass@host:port/db of a streaming replica of the "
        "PostgreSQL primary: the API's reads (state, lists, change log, summaries, feeds, "
        "pages, proofs) go there, writes stay on the primary; unset, everything reads the primary",
    )
    read_wait: float = Field(
        default=2, ge=0, le=30,
        description="seconds a read sent with `Ledger-Min-Position` waits for the read model "
        "to reach that position (then the primary answers, or 503)",
    )
    host: str = Field(default="127.0.0.1", description="address `ledger serve` listens on")
    port: int = Field(default=8000, ge=1, le=65535, description="port `ledger serve` listens on")
    environment: Literal["development", "production"] = "development"
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="largest request body accepted (413 above)"
    )
    project_in_process: bool = Field(
        default=True,
        description="run the projector inside `ledger serve`; turn off when separate "
        "projection workers (`ledger follow`) keep the read model up to date",
    )
    poll_interval: float = Field(
        default=0.5, gt=0, le=60,
        description="seconds between polls for new events on SQLite (PostgreSQL is notified)",
    )
    signing_key_file: Path = Field(
        default=Path("var/signing.key"),
        description="the Ed25519 signer key of checkpoints (`ledger key generate`); never logged",
    )
    origin: str = Field(
        default="commitment-ledger.local/log", min_length=1, max_length=200,
        description="the origin line of checkpoints: names this log",
    )
    checkpoint_interval: float = Field(
        default=300, ge=0,
        description="seconds between checkpoints issued by `ledger serve` when the log grew "
        "(0: none; needs the signing key file)",
    )
    witnesses: str = Field(
        default="",
        description="witnesses that cosign each new checkpoint (C2SP tlog-witness), separated "
        "by commas: `<URL> <verifier key>`, the URL being the witness's submission prefix and "
        "the key its cosignature/v1 verifier key (`ledger witness key generate`)",
    )
    public_url: str | None = Field(
        default=None, pattern=r"^https?://[^/\s]+(/[^\s]*)?$",
        description="the URL readers reach the ledger at: feeds link to it (rel=self, entries); "
        "unset, links use the scheme, host and port of each request",
    )
    feed_page_size: int = Field(default=100, ge=1, le=10000,
                                description="entries per feed archive page (RFC 5005)")
    feed_max_age: int = Field(default=60, ge=0,
                              description="seconds current feed documents may be cached")
    websub_hub: str | None = Field(default=None, description="WebSub hub to link and ping")
    tick_interval: float = Field(
        default=3600, ge=0,
        description="seconds between scheduled deadline ticks in `ledger serve` (0: none)",
    )

    write_rate: float = Field(
        default=300, ge=0,
        description="writes a token may make per minute, on average (429 above; 0: no limit); "
        "counted in each server process",
    )
    write_burst: int = Field(
        default=100, ge=1,
        description="writes a token may make at once before `write_rate` applies",
    )
    header_timeout: float = Field(
        default=10, gt=0, le=300,
        description="seconds a client has to send a request's line and headers, or the rest "
        "of a body answered unread (then the connection is closed, with 408 if unanswered)",
    )
    body_timeout: float = Field(
        default=60, gt=0, le=3600,
        description="seconds a client has to send a whole request body once its headers "
        "arrived (408)",
    )
    keep_alive_timeout: int = Field(
        default=5, ge=1, le=300,
        description="seconds an idle keep-alive connection stays open; keep it above the "
        "proxy's upstream keepalive_timeout (4 s in deploy/nginx/ledger.conf)",
    )

    @field_validator("witnesses")
    @classmethod
    def _witnesses_parse(cls, value: str) -> str:
        try:
            parse_witnesses(value)
        except (ValueError, NoteError) as error:
            raise ValueError(f"LEDGER_WITNESSES: {error}") from None
        return value

    @field_validator("read_database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @property
    def witness_list(self) -> list[WitnessConfig]:
        return parse_witnesses(self.witnesses)

    @model_validator(mode="after")
    def _replica_of_a_postgresql_primary(self) -> Settings:
        """Checked here, not per field, so that a URL (and its password) is never echoed."""
        if self.read_database_url is None:
            return self
        for name, url in (("LEDGER_READ_DATABASE_URL", self.read_database_url),
                          ("LEDGER_DATABASE_URL", self.database_url)):
            if urlsplit(url).scheme not in POSTGRESQL:
                raise ValueError(f"{name} must be a postgresql:// URL: a read replica is a "
                                 "PostgreSQL streaming replica of a PostgreSQL primary")
        try:
            persistence_env(self.read_database_url)
        except InvalidValue as error:
            raise ValueError(f"LEDGER_READ_DATABASE_URL: {error}") from None
        return self

    @model_validator(mode="after")
    def _public_url_where_links_outlive_the_request(self) -> Settings:
        """Hub pings name feed URLs outside any request; in production, Host is the client's."""
        if self.public_url is None and (self.websub_hub or self.environment == "production"):
            raise ValueError("LEDGER_PUBLIC_URL must be set in production and with LEDGER_WEBSUB_HUB")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
