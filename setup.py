"""The one thing pyproject.toml cannot say yet without an experimental setting: the compiled parts,
the reader of list cells (vectorize_nb/packing.py) and the search kernels (vectorize_nb/local/search.py).
Both are optional: without a C compiler the install still succeeds and numpy or pure Python does the
same work, more slowly."""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("vectorize_nb._packing", ["vectorize_nb/_packing.c"], optional=True),
    Extension("vectorize_nb.local._kernels", ["vectorize_nb/local/_kernels.c"], optional=True),
])
