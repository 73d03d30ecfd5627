"""Code the tests run in other processes (kept here, as modules, so that it is read and linted)."""
