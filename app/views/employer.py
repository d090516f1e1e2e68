"""Employers: registration, sign-in and their home page (/employer/...). One vote per employer."""
from app.views.electorate import make_blueprint

bp = make_blueprint("employer", "employer", "/employer")
