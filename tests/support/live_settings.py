"""Settings of the live test server: the project's own, with the sandbox app API on unless told otherwise."""

from project.settings import *  # noqa: F403
from project.settings import env

BROKER_SANDBOX = env.bool("BROKER_SANDBOX", default=True)
