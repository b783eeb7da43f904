# A shim for pips too old for PEP 517 builds (pip 9 on RHEL 8, pip 18 in a
# Python 3.6 venv): the metadata lives in setup.cfg.
from setuptools import setup

setup()
