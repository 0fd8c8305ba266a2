"""`python -m devstack.netns COMMAND [ARG...]`: COMMAND in a network namespace of its own."""

import sys

from . import NamespaceError, exec_in_namespace

if len(sys.argv) < 2:
    sys.exit("usage: python -m devstack.netns COMMAND [ARG...]")
try:
    exec_in_namespace(sys.argv[1:])
except NamespaceError as exc:
    sys.exit(str(exc))
