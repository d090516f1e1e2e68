"""``ssbvote deploy nginx`` renders the shipped site template; outside values cannot inject nginx
directives and no template field is left unfilled (issue 20)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tools.cli import main
from tools.deploy import DeployError, NginxSite, deploy_dir, render_nginx


def site(**changes: object) -> NginxSite:
    values: dict[str, object] = dict(server_name="vote.example", certificate=Path("/etc/tls/vote.pem"),
                                     certificate_key=Path("/etc/tls/vote.key"),
                                     upstreams=["10.0.0.11:8000", "10.0.0.12:8000"])
    values.update(changes)
    return NginxSite(**values)  # type: ignore[arg-type]


def test_the_rendered_site_has_tls_hsts_limits_and_one_forwarded_hop() -> None:
    text = render_nginx(site())
    assert "    server 10.0.0.11:8000 max_fails=1 fail_timeout=10s;\n    server 10.0.0.12:8000" in text
    assert "ssl_certificate     /etc/tls/vote.pem;" in text and "listen 443 ssl http2;" in text
    assert 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;' in text
    assert "client_max_body_size 4m;" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text  # replaced, never appended
    assert "return 301 https://$host$request_uri;" in text
    assert "${" not in text


@pytest.mark.parametrize("change, message", [
    ({"upstreams": ["10.0.0.11:8000; include /etc/passwd"]}, "is not HOST:PORT"),
    ({"upstreams": []}, "at least one --upstream"),
    ({"server_name": "vote.example; return 200"}, "is not a host name"),
    ({"certificate": Path("/etc/tls/a b.pem")}, "absolute path without spaces"),
    ({"certificate_key": Path("relative.key")}, "absolute path"),
    ({"https_listen": "443 default_server"}, "is not [ADDRESS:]PORT"),
])
def test_injection_and_bad_values_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(DeployError, match=message.replace("[", r"\[").replace("]", r"\]")):
        render_nginx(site(**change))


def test_a_field_left_unfilled_is_an_error(tmp_path: Path) -> None:
    template = tmp_path / "t.conf"
    template.write_text((deploy_dir() / "nginx" / "ssbvote.conf.template").read_text() + "# ${NEW_FIELD}\n")
    with pytest.raises(DeployError, match="NEW_FIELD"):
        render_nginx(site(), template)


def test_the_cli_prints_the_site_or_one_line() -> None:
    ok = CliRunner().invoke(main, ["deploy", "nginx", "--server-name", "vote.example", "--certificate", "/c.pem",
                                   "--certificate-key", "/c.key", "--upstream", "10.0.0.11:8000"])
    assert ok.exit_code == 0 and "upstream ssbvote_app" in ok.output
    bad = CliRunner().invoke(main, ["deploy", "nginx", "--server-name", "vote.example", "--certificate", "/c.pem",
                                    "--certificate-key", "/c.key", "--upstream", "nope"])
    assert bad.exit_code == 1 and bad.output.strip() == "Error: upstream 'nope' is not HOST:PORT"
