from gridc.cli.entry import main

raise SystemExit(main())
