"""The `tether` command line; each subcommand lives in its own `cmd_<name>.py` module."""
