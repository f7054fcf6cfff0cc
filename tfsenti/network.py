"""Whether tfsenti may use the network: one reading of `TFSENTI_OFFLINE` and one cached connectivity probe.

`TFSENTI_OFFLINE` (any case, spaces ignored):
- `1`, `true`, `yes`, `on`: offline, nothing is downloaded;
- `0`, `false`, `no`, `off`: online, no probe (a failed download then says why);
- unset or empty: a short TCP probe of the host about to be contacted decides (once per host and process).
Any other value is a `ConfigError` listing these.

Every place that might download (datasets, TF-Hub modules, keras_hub presets, transformers models) asks
`offline_reason(host)` and, when it gets a reason, raises `unavailable(...)`'s error naming what to provide.

Example:
    >>> offline_setting({"TFSENTI_OFFLINE": "yes"}), is_offline("example.org", {"TFSENTI_OFFLINE": "yes"})
    (True, True)
    >>> offline_reason("example.org", {"TFSENTI_OFFLINE": "yes"})
    'TFSENTI_OFFLINE=yes is set'
    >>> offline_setting({"TFSENTI_OFFLINE": "off"}), offline_reason("example.org", {"TFSENTI_OFFLINE": "off"})
    (False, None)
    >>> print(unavailable("dataset 'imdb'", "aclImdb/ in ../shared/datasets/imdb", "no network"))
    Cannot fetch dataset 'imdb' (no network). Provide aclImdb/ in ../shared/datasets/imdb.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Mapping

from tfsenti.errors import ConfigError, TfsentiError

ENVIRONMENT_VARIABLE = "TFSENTI_OFFLINE"
OFFLINE_VALUES = ("1", "true", "yes", "on")
ONLINE_VALUES = ("0", "false", "no", "off")
PROBE_TIMEOUT_S = 2.0


def offline_setting(environ: Mapping[str, str] | None = None) -> bool | None:
    """`TFSENTI_OFFLINE` of `environ` (default `os.environ`): True (offline), False (online) or None (unset: probe).

    Example:
        >>> offline_setting({"TFSENTI_OFFLINE": " True "}), offline_setting({"TFSENTI_OFFLINE": "0"})
        (True, False)
        >>> offline_setting({"TFSENTI_OFFLINE": ""}) is None, offline_setting({}) is None
        (True, True)
    """
    raw = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE)
    value = (raw or "").strip().lower()
    if not value:
        return None
    if value in OFFLINE_VALUES:
        return True
    if value in ONLINE_VALUES:
        return False
    raise ConfigError(f"{ENVIRONMENT_VARIABLE}={raw!r} is not understood. Allowed: {', '.join(OFFLINE_VALUES)} "
                      f"(offline), {', '.join(ONLINE_VALUES)} (online), or unset (probe the network). "
                      f"Set it to one of these, e.g. {ENVIRONMENT_VARIABLE}=1.")


@functools.lru_cache(maxsize=None)
def can_connect(host: str, port: int = 443, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to `host:port` opens within `timeout` seconds; cached per process and host.

    Example:
        >>> can_connect("host.invalid")
        False
    """
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:  # refused, unreachable, DNS failure, timeout
        return False


def offline_reason(host: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Why `host` may not be contacted now (the setting, or a failed probe), or None when it may be.

    Example:
        >>> offline_reason("huggingface.co", {"TFSENTI_OFFLINE": "1"})
        'TFSENTI_OFFLINE=1 is set'
    """
    environ = os.environ if environ is None else environ
    setting = offline_setting(environ)
    if setting:
        return f"{ENVIRONMENT_VARIABLE}={environ[ENVIRONMENT_VARIABLE].strip()} is set"
    if setting is None and not can_connect(host):
        return f"{host} cannot be reached (no network?) and {ENVIRONMENT_VARIABLE} is unset"
    return None


def is_offline(host: str, environ: Mapping[str, str] | None = None) -> bool:
    """True when `host` may not be contacted (see `offline_reason`)."""
    return offline_reason(host, environ) is not None


def unavailable(what: str, provide: str, reason: str, *, error: type[TfsentiError] = TfsentiError,
                details: str = "") -> TfsentiError:
    """The error for a download that cannot happen: what was wanted, why, and the file or folder to provide
    (`provide` completes "Provide ...": no final full stop); `details` follow on the next lines.

    Example:
        >>> print(unavailable("TF-Hub module 'x'", "a module folder with --pretrained", "TFSENTI_OFFLINE=1 is set"))
        Cannot fetch TF-Hub module 'x' (TFSENTI_OFFLINE=1 is set). Provide a module folder with --pretrained.
    """
    return error(f"Cannot fetch {what} ({reason}). Provide {provide}." + (f"\n{details}" if details else ""))
