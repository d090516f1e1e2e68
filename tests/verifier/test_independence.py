"""verifier/ must be a second opinion: it imports nothing from app/, crypto/ or tally/."""
from __future__ import annotations

import ast
from pathlib import Path

VERIFIER = Path(__file__).resolve().parents[2] / "verifier"
FORBIDDEN = ("app", "crypto", "tally", "tests", "election", "tools", "ca")
ALLOWED_THIRD_PARTY = {"gmpy2", "cryptography", "click"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.append("." * node.level + (node.module or ""))
            else:
                names.append(node.module or "")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            names.append("__import__")
        elif isinstance(node, ast.Attribute) and node.attr == "import_module":
            names.append("importlib.import_module")
    return names


def _modules() -> list[Path]:
    """Every module of verifier/, its subpackages (verifier/checks/) included."""
    return sorted(VERIFIER.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(VERIFIER).as_posix()


def test_verifier_modules_exist() -> None:
    assert len(_modules()) >= 10
    assert (VERIFIER / "checks" / "__init__.py") in _modules()


def test_verifier_imports_nothing_from_the_producers() -> None:
    offenders = []
    for path in _modules():
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN or name in ("__import__", "importlib.import_module"):
                offenders.append(f"{_name(path)}: {name}")
            if name.startswith("."):
                offenders.append(f"{_name(path)}: relative import {name} (use verifier.*)")
    assert offenders == []


def test_verifier_third_party_dependencies_are_the_allowed_ones() -> None:
    import sys
    stdlib = set(sys.stdlib_module_names)
    extra = set()
    for path in _modules():
        for name in _imports(path):
            top = name.split(".")[0]
            if top and top != "verifier" and top not in stdlib and top != "__future__":
                extra.add(top)
    assert extra <= ALLOWED_THIRD_PARTY, extra


#: what ``cryptography`` may give the verifier, by module: Ed25519 (docs/record.md §1) and, for
#: the seed derivation of an audited ballot (docs/protocol.md §4.2), HKDF-SHA256 (RFC 5869)
CRYPTOGRAPHY_USES = {
    "signatures.py": {"cryptography.exceptions",
                      "cryptography.hazmat.primitives.asymmetric.ed25519"},
    "checks/context.py": {"cryptography.hazmat.primitives.asymmetric.ed25519"},
    "kdf.py": {"cryptography.hazmat.primitives", "cryptography.hazmat.primitives.kdf.hkdf"},
}


def test_cryptography_only_for_ed25519_and_hkdf() -> None:
    for path in _modules():
        for name in _imports(path):
            if name.startswith("cryptography"):
                assert name in CRYPTOGRAPHY_USES.get(_name(path), set()), \
                    f"{_name(path)} imports {name}"
