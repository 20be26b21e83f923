from gridc.runtime.cli import main

raise SystemExit(main())
