from gridc.cli.main import main

raise SystemExit(main())
