"""crmcli: the after-sales callback desk of a car dealership."""

# The one place the version is written: pyproject.toml reads it from here.
__version__ = "0.1.0"
