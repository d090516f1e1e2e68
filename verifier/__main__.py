"""``python -m verifier RECORD_DIR`` — see :mod:`verifier.cli`."""
import sys

from verifier.cli import main

if __name__ == "__main__":
    sys.exit(main())
