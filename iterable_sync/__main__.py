import sys

from iterable_sync.cli import main

sys.exit(main())
