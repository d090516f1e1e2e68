from .cli import tally_cli

if __name__ == "__main__":  # pragma: no branch
    tally_cli(prog_name="python -m tally")
