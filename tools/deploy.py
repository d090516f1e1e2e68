"""The shipped deployment files (deploy/): rendering the nginx site from its template.

``deploy/nginx/ssbvote.conf.template`` is the one nginx configuration — production renders it
with ``ssbvote deploy nginx``, the multi-host tests render the very same file (tests/deploy).
Only the ``${UPPER_CASE}`` fields are filled; nginx's own ``$variables`` are left alone, and a
field left unfilled is an error, not a broken config.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Sequence

_HERE = Path(__file__).resolve().parent


def deploy_dir() -> Path:
    """deploy/ in a checkout, tools/deploy/ in an installed wheel (setup.py copies it)."""
    packaged = _HERE / "deploy"
    return packaged if (packaged / "nginx").is_dir() else _HERE.parent / "deploy"


NGINX_TEMPLATE = "nginx/ssbvote.conf.template"
_UPSTREAM = re.compile(r"\A[A-Za-z0-9.\-]+:\d{1,5}\Z|\A\[[0-9A-Fa-f:]+\]:\d{1,5}\Z")
_NAME = re.compile(r"\A[A-Za-z0-9.\-_ *]+\Z")
_FIELD = re.compile(r"\$\{[A-Z_]+\}")


class DeployError(ValueError):
    pass


@dataclass(frozen=True)
class NginxSite:
    server_name: str
    certificate: Path
    certificate_key: Path
    upstreams: Sequence[str]
    https_listen: str = "443"
    http_listen: str = "80"
    log_dir: Path = Path("/var/log/nginx")
    #: ":8443" when HTTPS is not on 443 (tests), so the redirect names the right port.
    https_port_suffix: str = ""


def render_nginx(site: NginxSite, template: Path | None = None) -> str:
    """The nginx site for ``site`` (validated: one clear error per bad value)."""
    if not site.upstreams:
        raise DeployError("at least one --upstream HOST:PORT is needed")
    for upstream in site.upstreams:
        if not _UPSTREAM.match(upstream):
            raise DeployError(f"upstream {upstream!r} is not HOST:PORT")
    if not _NAME.match(site.server_name):
        raise DeployError(f"server name {site.server_name!r} is not a host name")
    for value in (site.https_listen, site.http_listen):
        if not re.fullmatch(r"(?:[0-9.]+:|\[[0-9A-Fa-f:]+\]:)?\d{1,5}", value):
            raise DeployError(f"listen {value!r} is not [ADDRESS:]PORT")
    for path in (site.certificate, site.certificate_key, site.log_dir):
        if not str(path).startswith("/") or any(c in str(path) for c in " ;{}\n"):
            raise DeployError(f"{path} must be an absolute path without spaces or ; {{ }}")
    text = (template or deploy_dir() / NGINX_TEMPLATE).read_text(encoding="utf-8")
    rendered = Template(text).safe_substitute(
        UPSTREAM_SERVERS="\n".join(f"    server {u} max_fails=1 fail_timeout=10s;" for u in site.upstreams),
        SERVER_NAME=site.server_name,
        TLS_CERTIFICATE=str(site.certificate),
        TLS_CERTIFICATE_KEY=str(site.certificate_key),
        HTTPS_LISTEN=site.https_listen,
        HTTP_LISTEN=site.http_listen,
        HTTPS_PORT_SUFFIX=site.https_port_suffix,
        LOG_DIR=str(site.log_dir),
    )
    left = _FIELD.findall(rendered)
    if left:
        raise DeployError(f"the template has fields nobody filled: {', '.join(sorted(set(left)))}")
    return rendered
