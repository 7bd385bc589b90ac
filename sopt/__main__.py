import sys

from sopt.cli import main

sys.exit(main())
