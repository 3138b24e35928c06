"""The run domain shared by the web process and the agent worker.

Invoking and stopping runs, recording them and their messages, and finding a conversation by
its session name. Nothing here imports the worker: the admin's Stop and `/agent/invoke` run in
web processes that may have no agent at all.
"""
