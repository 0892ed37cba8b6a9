"""`xxgk` subcommand groups, one module each (registered in xxgk.cli)."""
