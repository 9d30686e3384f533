# Kept for tools that still look for setup.py (the design card names it); all metadata lives in pyproject.toml.
from setuptools import setup

setup()
