"""Two app hosts behind nginx (issue 20): independent gunicorn instances on one PostgreSQL and
one Redis, behind the shipped nginx site (TLS with a test certificate, HSTS, request-size limits,
one X-Forwarded-For hop with SSBVOTE_PROXY_HOPS=1).

Voters cast through nginx with the Python voting client; both hosts take casts; the board stays
one chain and every receipt names its entry.  The per-IP sign-in limit is shared by the hosts
(Redis) and keyed on the client address nginx saw, whatever X-Forwarded-For the client sends.
"""
from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from app.config import Config
from app.extensions import db
from app.models.base import utcnow
from app.services.administration import manifest as manifests
from app.services.identity import activation
from app.services.platform import schema, signing
from app.services.voting import board
from app import create_app
from tests.deploy.conftest import SourceAddressAdapter
from tests.support import election_setup
from tests.support.factories import insured_csv, national_ids, small_manifest
from tools.cluster import AppCluster
from tools.voting_client import VotingClient

pytestmark = [pytest.mark.postgres, pytest.mark.deploy, pytest.mark.slow]
VOTERS = 6
SIGNIN_LIMIT = 10
PASSWORD = "two-hosts-voter-2569"


@pytest.fixture
def two_hosts(pg_url: str, redis_url: str, tmp_path: Path, nginx_factory: Any) -> Iterator[dict[str, Any]]:
    env = {
        "SSBVOTE_ENV": "test",
        "SSBVOTE_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": pg_url,
        "SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1",
        "SSBVOTE_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/3",
        "SSBVOTE_SIGNIN_IP_LIMIT": f"{SIGNIN_LIMIT} per minute",
    }
    config = Config.from_env(env)
    schema.upgrade(config.database_url)
    app = create_app(config)
    with app.app_context():
        ids = national_ids(VOTERS)
        setup = election_setup.ready_election(small_manifest(), [insured_csv(ids)], tmp_path / "trustees")
        assert setup.authority is not None
        # Each voter's activation letter (docs/accounts.md §9), as the test sender writes it.
        codes = activation.issue_for_election(setup.election.id, utcnow(), "test")
        voters = [(nid, setup.credentials[nid], codes[nid]) for nid in ids]
        ca_key = setup.authority.ca_public_key
        db.session.remove()
    hosts = AppCluster(env, tmp_path, hosts=2, workers=1, threads=8)
    try:
        proxy = nginx_factory(hosts.upstreams)
        yield {"app": app, "proxy": proxy, "voters": voters, "ca_key": ca_key, "hosts": hosts}
    finally:
        hosts.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def vote(proxy: Any, ca_key: str, index: int, voter_key: str, credential: str,
         code: str) -> list[dict[str, Any]]:
    client = VotingClient(proxy.url, "insured", credential=credential, ca_key=ca_key,
                          allow_insecure_test_key=True)
    client.http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
    client.http.verify = str(proxy.certificate.ca)
    client.http.mount("https://", SourceAddressAdapter(f"127.0.1.{index + 1}"))  # a client of its own
    client.register(voter_key, code, PASSWORD)
    context = client.ballot_context("test-election")
    receipts = []
    for round_ in range(2):  # a re-vote too
        selections = [1 if j == (index + round_) % 5 else 0 for j in range(5)]
        receipts.append(client.cast("test-election", selections, context).receipt)
    return receipts


def test_casts_through_nginx_to_two_hosts_keep_one_chain(two_hosts: dict[str, Any]) -> None:
    proxy = two_hosts["proxy"]
    with ThreadPoolExecutor(max_workers=VOTERS) as pool:
        futures = [pool.submit(vote, proxy, two_hosts["ca_key"], i, voter_key, credential, code)
                   for i, (voter_key, credential, code) in enumerate(two_hosts["voters"])]
        receipts = [r for f in futures for r in f.result()]
    assert len(receipts) == 2 * VOTERS

    served = proxy.upstream_counts("/cast")
    assert set(served) == set(two_hosts["hosts"].upstreams), served  # both hosts took casts
    assert sum(served.values()) == len(receipts)

    with two_hosts["app"].app_context():
        election = manifests.get_election("test-election")
        assert board.verify_chain(election) == []
        entries = {e.seq: e for e in board.iter_entries(election)}
        public_key = signing.public_key_dict()["public_key"]
        checkpoints = board.checkpoints(election)
    assert sorted(entries) == list(range(1, len(receipts) + 1))  # one chain, no gap, no fork
    for receipt in receipts:
        entry = entries[receipt["seq"]]
        assert (entry.ballot_hash, entry.entry_hash) == (receipt["ballot_hash"], receipt["entry_hash"])
        assert signing.verify(receipt, public_key)
    assert all(cp["seq"] <= len(entries) for cp in checkpoints)


def test_tls_hsts_redirect_and_size_limit(two_hosts: dict[str, Any]) -> None:
    proxy = two_hosts["proxy"]
    ca = str(proxy.certificate.ca)
    health = requests.get(proxy.url + "/health", verify=ca, timeout=10)
    assert health.status_code == 200
    assert health.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    plain = requests.get(proxy.http_url + "/insured/login", allow_redirects=False, timeout=10)
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"{proxy.url}/insured/login"
    with pytest.raises(requests.exceptions.SSLError):  # no trust without the test CA
        requests.get(proxy.url + "/health", timeout=10)
    # 5 MB: refused by nginx (413) before any app host reads it; HSTS on its own error too.
    big = requests.post(proxy.url + "/api/elections/test-election/cast", data=b"x" * (5 * 1024 * 1024),
                        headers={"Content-Type": "application/json"}, verify=ca, timeout=30)
    assert big.status_code == 413
    assert "Strict-Transport-Security" in big.headers
    assert proxy.upstream_counts("/cast") == {}


def test_the_signin_limit_is_shared_by_the_hosts_and_keyed_on_the_real_client(two_hosts: dict[str, Any]) -> None:
    proxy = two_hosts["proxy"]
    attacker = requests.Session()
    attacker.trust_env = False
    attacker.verify = str(proxy.certificate.ca)
    attacker.mount("https://", SourceAddressAdapter("127.0.0.2"))
    page = attacker.get(proxy.url + "/insured/login", timeout=10)
    token = page.text.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    statuses = []
    for _ in range(SIGNIN_LIMIT + 4):
        # A fresh forged X-Forwarded-For each time: nginx replaces it with the real address.
        spoofed = f"203.0.113.{secrets.randbelow(250) + 1}"
        answer = attacker.post(proxy.url + "/insured/login", timeout=10, allow_redirects=False,
                               headers={"X-Forwarded-For": spoofed, "Referer": proxy.url + "/insured/login"},
                               data={"csrf_token": token, "voter_key": "1101700203451", "password": "wrong"})
        statuses.append(answer.status_code)
    assert statuses[:SIGNIN_LIMIT].count(429) == 0, statuses
    assert statuses[SIGNIN_LIMIT:] == [429] * 4, statuses  # one count across both hosts (Redis)
    assert len(proxy.upstream_counts("POST /insured/login")) == 2  # the posts went to both hosts
    # Another client (another address) is not limited by the attacker's posts.
    other = requests.Session()
    other.trust_env = False
    other.verify = str(proxy.certificate.ca)
    other.mount("https://", SourceAddressAdapter("127.0.0.3"))
    page = other.get(proxy.url + "/insured/login", timeout=10)
    token = page.text.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    answer = other.post(proxy.url + "/insured/login", timeout=10, allow_redirects=False,
                        headers={"Referer": proxy.url + "/insured/login"},
                        data={"csrf_token": token, "voter_key": "1101700203451", "password": "wrong"})
    assert answer.status_code != 429
