"""The `stmpo` subcommands, one module each (`stmpo.cli.COMMANDS` lists them in help order).

A command module holds only its argparse setup (`add_parser`) and its `run`, and imports
the heavy libraries (pydantic, yaml, Qt, boto3, openjd) inside `run`. They live here, not
in the packages whose work they call, so that `stmpo --help` imports no package
`__init__` but this one: the packages then import their public names plainly.
"""
