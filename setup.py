"""The one thing pyproject.toml cannot say yet without an experimental setting: the compiled reader
of list cells (vectorize_nb/packing.py). It is optional: without a C compiler the install still
succeeds and the pure-Python reader is used."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("vectorize_nb._packing", ["vectorize_nb/_packing.c"], optional=True)])
