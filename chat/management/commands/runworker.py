"""`manage.py runworker agent`: Channels' runworker command line, with the agent's worker.

It takes the place of Channels' own command (the `chat` app is listed before `channels` in
INSTALLED_APPS), so deployments use the command Channels documents; for the `agent` channel
it runs `AgentWorker` and exits with its status (non-zero when the job queue was lost).
"""

from __future__ import annotations

import logging
import sys

from channels.layers import get_channel_layer
from channels.management.commands.runworker import Command as ChannelsRunworker
from channels.routing import get_default_application
from django.core.management import CommandError

from chat.agent.worker import AgentWorker
from chat.runs.jobs import AGENT_CHANNEL

log = logging.getLogger("django.channels.worker")


class Command(ChannelsRunworker):
    help = "Run the agent worker: `runworker agent` (other channels run Channels' plain worker)."

    def handle(self, *args, **options) -> None:
        if options["channels"] != [AGENT_CHANNEL]:
            return super().handle(*args, **options)
        channel_layer = get_channel_layer(options["layer"])
        if channel_layer is None:
            raise CommandError("You do not have any CHANNEL_LAYERS configured.")
        log.info("Running the agent worker")
        worker = AgentWorker(
            application=get_default_application(), channels=[AGENT_CHANNEL], channel_layer=channel_layer
        )
        status = worker.run()
        if status:
            sys.exit(status)
