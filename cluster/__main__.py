"""`python -m cluster` (`make cluster`): see cluster/launcher.py and docs/operations.md, "Cluster"."""
import sys

from cluster.launcher import main

sys.exit(main())
