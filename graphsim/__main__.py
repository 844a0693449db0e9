from graphsim.cli import main

raise SystemExit(main())
