"""The command lines, one module each; each ``main(argv)`` returns the exit code.

- ``synth``: ``python main.py`` / ``make synth`` / ``cdktf synth`` (and ``--check``);
- ``report``: ``python -m stacks.report`` / ``make report``;
- ``atlantis``: ``python -m stacks.cli.atlantis`` / ``make atlantis`` and the Atlantis
  pre-workflow hook ``make atlantis-synth``;
- ``tfc``: ``python -m stacks.cli.tfc`` / ``make tfc-export`` and ``make tfc-check``;
- ``schema``: ``python -m stacks.cli.schema`` / ``make schema`` (the generated docs);
- ``common``: printing config problems, the Terraform CLI check.

Exit codes everywhere: 0 success, 1 failure (or a stale generated file with
``--check``), 2 invalid configs or arguments.
"""
