"""``python -m verifier witness keygen|sign`` (docs/record.md §3.5): a witness's key, and its
signed statement of the head its observer state verified (optionally posted to the server)."""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

from verifier.encoding import loads_strict
from verifier.errors import InvalidInput
from verifier.seen import STATE_TYPE
from verifier.witness import keygen, load_key, sign_statement


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m verifier witness",
                                description="Witness keys and statements (record.md §3.5).")
    sub = p.add_subparsers(dest="command", required=True)
    k = sub.add_parser("keygen", help="make a witness key; prints the public key for the CA")
    k.add_argument("--out", required=True,
                   help="the key file to write (the 32-byte seed as 64 hex, mode 0600)")
    s = sub.add_parser("sign", help="sign the head an observer state file verified")
    s.add_argument("--key", required=True, help="the witness key file (keygen --out)")
    s.add_argument("--name", required=True, help="the witness's name as pinned in the opening")
    s.add_argument("--state", required=True, help="the observer state file (--follow --state)")
    s.add_argument("--out", help="write the statement to this file")
    s.add_argument("--post", metavar="URL",
                   help="POST it to http(s)://host/api/elections/<slug>/witnesses")
    return p


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    try:
        if args.command == "keygen":
            print(json.dumps({"algorithm": "Ed25519", "public_key": keygen(Path(args.out))}))
            return 0
        return _sign(args)
    except (InvalidInput, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _sign(args: argparse.Namespace) -> int:
    state = loads_strict(Path(args.state).read_bytes())
    if not isinstance(state, dict) or state.get("type") != STATE_TYPE:
        raise InvalidInput(f"{args.state}: not an observer state file")
    verified = state["verified"]
    if state.get("election_id") is None or verified.get("head") is None:
        raise InvalidInput(f"{args.state}: nothing verified yet")
    statement = sign_statement(load_key(Path(args.key)), args.name, state["election_id"],
                               state["opening"], int(verified["seq"]), verified["head"])
    text = json.dumps(statement, sort_keys=True)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    if args.post:
        request = urllib.request.Request(args.post, data=text.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                print(f"posted: {answer.status} {answer.read().decode(errors='replace')}",
                      file=sys.stderr)
        except urllib.error.HTTPError as exc:
            print(f"refused: {exc.code} {exc.read().decode(errors='replace')}", file=sys.stderr)
            return 1
        except (urllib.error.URLError, OSError) as exc:
            print(f"cannot post: {exc}", file=sys.stderr)
            return 2
    return 0
