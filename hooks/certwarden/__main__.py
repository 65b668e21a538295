from certwarden.cli import main

raise SystemExit(main())
