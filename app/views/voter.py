"""Insured employees: registration, sign-in and their home page (/insured/...)."""
from app.views.electorate import make_blueprint

bp = make_blueprint("insured", "voter", "/insured")
