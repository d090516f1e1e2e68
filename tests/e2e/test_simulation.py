"""The whole election end to end (issue 7): ``ssbvote simulate`` over real HTTP, then the
results page of the app shows the verified result."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from flask import Flask

from app import create_app
from tools.cli import main
from app.config import Config
from app.extensions import db
from tests.support.factories import EXAMPLES


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    record = tmp_path_factory.mktemp("sim") / "record"
    result = CliRunner().invoke(main, [
        "simulate", "--record", str(record), "--insured", "14", "--employers", "5",
        "--revote-rate", "0.3", "--paper", "2", "--audits", "3", "--trustees", "3", "--threshold", "2",
        "--key-bits", "1024", "--seed", "7", "--quiet",
        "--manifest", str(EXAMPLES / "small-manifest.json")], catch_exceptions=False)
    return {"record": record, "output": result.output, "exit": result.exit_code}


def test_simulation_matches_intent_and_verifies(simulated: dict[str, Any]) -> None:
    out = simulated["output"]
    assert simulated["exit"] == 0, out
    assert out.count("counts MATCH the voters' intended last choices") == 2
    assert "Verifier: exit 0 (42 of 42 checks passed)" in out  # record version 4: checks 1–42
    assert "4 ballots audited by 3 voters and checked by audit code" in out
    assert "trustees" in out and "(1 absent)" in out
    record: Path = simulated["record"]
    for name in ("results.json", "HASHES.json", "board/ballots.jsonl", "paper_overrides.json",
                 "opening.json", "credentials.json", "revocations.jsonl"):
        assert (record / name).exists()
    paper = json.loads((record / "paper_overrides.json").read_text())
    assert len(paper["pseudonyms"]) == 2
    assert [s["official"] for s in paper["signatures"]] == ["sim-officer-a", "sim-officer-b"]
    # Version 2: every entry carries its voter's credential and signature.
    entries = [json.loads(line) for line in (record / "board" / "entries.jsonl").read_text().splitlines()]
    assert entries and all(len(e["credential"]) == 64 and len(e["signature"]) == 128 for e in entries)
    # Version 3: the audits are on the board with their seeds, and only they carry one.
    assert sorted(e["kind"] for e in entries if "seed" in e) == ["audit"] * 4
    assert all(e["kind"] == "ballot" and "seed" not in e for e in entries if e["kind"] != "audit")
    # Pseudonyms only: no national ID or employer account of the roll appears in the record.
    text = "".join(p.read_text(errors="ignore") for p in record.rglob("*") if p.is_file())
    assert "national_id" not in text and "employer_account" not in text


@pytest.fixture
def results_app(simulated: dict[str, Any]) -> Iterator[Flask]:
    instance = simulated["record"].parent / ".record.simulation" / "instance"
    config = Config(env="development", instance_path=str(instance),
                    database_url=f"sqlite:///{instance / 'simulation.sqlite3'}",
                    allow_insecure_test_keys=True).validated()
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_results_page_and_record_download(results_app: Flask, simulated: dict[str, Any]) -> None:
    client = results_app.test_client()
    results = json.loads((simulated["record"] / "results.json").read_text())
    page = client.get("/results/ssb-simulation?lang=en").get_data(as_text=True)
    paper = len(json.loads((simulated["record"] / "paper_overrides.json").read_text())["pseudonyms"])
    assert paper == 2
    for contest_id, contest in results["contests"].items():
        turnout = page[page.index(f'id="turnout-{contest_id}"'):]
        turnout = turnout[:turnout.index("</dl>")]
        assert f'<dd class="num">{contest["counted_ballots"]}</dd>' in turnout
        for candidate in contest["candidates"]:
            if candidate["id"] in contest["elected"]:
                assert candidate["name"]["en"] in page
    # Turnout counts the paper votes too (issue 18): e-votes + paper votes of both contests.
    assert sum(int(n) for n in re.findall(r'Voters in total</dt><dd class="num"><strong>(\d+)<', page)) == \
        sum(c["counted_ballots"] for c in results["contests"].values()) + paper
    # Elected in the lists, or tied for the last seat (never both).
    shown = page.count('class="is-elected"') + page.count('class="is-tied"')
    assert shown >= sum(len(c["elected"]) for c in results["contests"].values())
    thai = client.get("/results/ssb-simulation?lang=th").get_data(as_text=True)
    assert "ผลการเลือกตั้ง" in thai and "ได้รับเลือก" in thai
    download = client.get("/results/ssb-simulation/record.zip")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert client.get("/results/no-such-election").status_code == 404


# --- issue 21: the 2026 draft's rule (docs/manifest.md §4) -------------------------------------


@pytest.fixture(scope="module")
def simulated_sections(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    record = tmp_path_factory.mktemp("sim-sections") / "record"
    result = CliRunner().invoke(main, [
        "simulate", "--record", str(record), "--insured", "15", "--employers", "4",
        "--revote-rate", "0.3", "--paper", "1", "--audits", "1", "--trustees", "3", "--threshold", "2",
        "--key-bits", "1024", "--seed", "11", "--quiet",
        "--manifest", str(EXAMPLES / "sections-manifest.json")], catch_exceptions=False)
    return {"record": record, "output": result.output, "exit": result.exit_code}


def test_sections_simulation_routes_voters_counts_per_contest_and_verifies(
        simulated_sections: dict[str, Any]) -> None:
    """``ssbvote simulate`` on the three-section, one-vote manifest: each voter is routed by the
    ``section`` column of the roll, casts a one-vote ballot of their contest, and every contest's
    published counts match what its voters intended; the record (version 4) verifies."""
    out = simulated_sections["output"]
    assert simulated_sections["exit"] == 0, out
    assert out.count("counts MATCH the voters' intended last choices") == 4
    assert "Verifier: exit 0 (42 of 42 checks passed)" in out
    record: Path = simulated_sections["record"]
    assert json.loads((record / "FORMAT.json").read_text()) == {"format": "ssbvote-record", "version": 4}
    manifest = json.loads((record / "manifest.json").read_text())
    results = json.loads((record / "results.json").read_text())
    listed = json.loads((record / "credentials.json").read_text())["contests"]
    assert sorted(results["contests"]) == sorted(c["id"] for c in manifest["contests"])
    assert sorted(listed) == sorted(c["id"] for c in manifest["contests"])
    assert sum(len(v) for k, v in listed.items() if k.startswith("insured-")) == 15
    for contest in manifest["contests"]:
        got = results["contests"][contest["id"]]
        assert (got["seats"], got["max_selections"]) == (contest["seats"], 1)
        assert len(got["elected"]) == contest["seats"]
        assert sum(c["votes"] for c in got["candidates"]) <= got["counted_ballots"]  # one vote each
    entries = [json.loads(line) for line in (record / "board" / "entries.jsonl").read_text().splitlines()]
    by_credential = {c: k for k, v in listed.items() for c in v}
    assert entries and all(by_credential[e["credential"]] == e["contest"] for e in entries)
    text = "".join(p.read_text(errors="ignore") for p in record.rglob("*") if p.is_file())
    assert '"section"' in text  # the rule is published in the manifest ...
    assert "section," not in text and ",33\n" not in text  # ... but no voter's attribute value
