from piggy_mcp.cli import main

raise SystemExit(main())
