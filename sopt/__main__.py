from sopt.cli import main
import sys
sys.exit(main())
