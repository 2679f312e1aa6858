"""crmcli: the after-sales callback desk of a car dealership."""
