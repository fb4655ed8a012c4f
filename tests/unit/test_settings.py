"""Settings: links follow the request unless LEDGER_PUBLIC_URL is set, and where no request
is there to follow (hub pings) or Host is the client's word (production), it must be."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings


def test_the_public_url_is_unset_by_default_and_kept_when_given():
    assert Settings(public_url=None).public_url is None
    assert Settings(public_url="https://ledger.example.org").public_url == "https://ledger.example.org"


@pytest.mark.parametrize("setting", [{"environment": "production"},
                                     {"websub_hub": "https://hub.example/"}])
def test_production_and_a_websub_hub_need_a_public_url(setting):
    with pytest.raises(ValidationError, match="LEDGER_PUBLIC_URL must be set"):
        Settings(public_url=None, **setting)
    assert Settings(public_url="https://ledger.example.org", **setting).public_url
