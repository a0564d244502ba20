"""The emulator helpers the end-to-end tests share (stacks/emulator.py, also behind
``make try``), and the step timings of this test session."""

from stacks.emulator import (  # noqa: F401 - re-exported for the tests
    OVERRIDE_FILE,
    PROD_AMI_PARAMETER,
    SERVICES,
    Aws,
    MotoServer,
    known_amis,
    mixed_policy_dropped,
    override,
    prepare_example,
    seed_existing_network,
    write_override,
)

#: ``[config, step, wall seconds, succeeded]`` of every end-to-end step run in this
#: session, in the order the steps started; the conftest prints them at the end.
STEP_TIMES: list[list] = []
