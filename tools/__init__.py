"""Operator tools around the app: the officials' ``ssbvote`` CLI, the server launcher, the demo
election, the end-to-end simulation, the Python voting client, the shared election-setup
scenario, and a throw-away PostgreSQL server for tests and benchmarks.

Dependencies point one way: ``tools`` may import ``app``, ``tally``, ``election``, ``crypto`` and
``verifier``; nothing in ``app`` imports ``tools``.
"""
