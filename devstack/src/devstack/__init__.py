"""Runs the real parts of the stack as local processes, for tests and for `make up`."""
