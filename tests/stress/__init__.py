# A package, so this directory's conftest.py is imported as `stress.conftest` and does not
# shadow tests/conftest.py, which other test modules import as plain `conftest`.
