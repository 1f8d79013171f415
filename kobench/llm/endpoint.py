"""Which model on which OpenAI-compatible server: `MODEL` (api.openai.com) or `MODEL@BASE_URL`.

Parsed once, where a setting enters (kobench.config), and light to import (no HTTP client).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from kobench.errors import BadInputError

DEFAULT_BASE_URL = "https://api.openai.com/v1"

_EXAMPLE = "e.g. gpt-4o, or Qwen/Qwen2-VL-7B-Instruct@http://localhost:8000/v1 for a local server"
_URL_AT = re.compile(r"@(?=https?://)", re.IGNORECASE)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Endpoint:
    """Which model on which server, and the environment variable holding the key (never the key)."""

    model: str
    base_url: str
    api_key_env: str = "OPENAI_API_KEY"

    @classmethod
    def parse(cls, spec: str, api_key_env: str = "OPENAI_API_KEY") -> Endpoint:
        """'MODEL' (OpenAI's server) or 'MODEL@BASE_URL'. The split is at the last '@' followed by
        http:// or https://, so a model id containing '@' still works."""
        text = spec.strip()
        cuts = [m.start() for m in _URL_AT.finditer(text)]
        if cuts:
            model, base_url = text[: cuts[-1]].strip(), text[cuts[-1] + 1 :].strip()
        else:
            model, base_url = text, DEFAULT_BASE_URL
            tail = text.rpartition("@")[2]
            if "@" in text and ("/" in tail or ":" in tail):
                # 'gpt-4o@localhost:8000/v1' is a URL without its scheme, not a model id.
                raise BadInputError(
                    f"bad model endpoint {spec!r}: the server URL after '@' must start with http:// or "
                    f"https:// ({_EXAMPLE})"
                )
        problem = _model_problem(model) or _url_problem(base_url)
        if problem:
            raise BadInputError(f"bad model endpoint {spec!r}: {problem} ({_EXAMPLE})")
        if not _ENV_NAME.match(api_key_env):
            raise BadInputError(f"bad API key variable name {api_key_env!r}: expected e.g. OPENAI_API_KEY")
        return cls(model, base_url.rstrip("/"), api_key_env)

    def identity(self) -> str:
        """'MODEL@BASE_URL': what results and cache keys record (the key is never part of it)."""
        return f"{self.model}@{self.base_url}"

    def api_key(self) -> str | None:
        """The key from the environment, or None when unset or empty (local servers need none)."""
        return os.environ.get(self.api_key_env) or None


def _model_problem(model: str) -> str | None:
    if not model:
        return "no model id"
    if any(c.isspace() for c in model):
        return f"the model id {model!r} contains whitespace"
    return None


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// URL"
    if parts.username or parts.password:
        # Credentials in the URL would end up in results and cache keys with the identity.
        return "the URL carries credentials; put the key in the API key environment variable instead"
    if parts.query or parts.fragment:
        return f"the base URL {url!r} has a query or fragment"
    if parts.path.rstrip("/").endswith("/chat/completions"):
        return "give the base URL (ending in /v1), not the /chat/completions endpoint"
    return None
