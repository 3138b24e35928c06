"""Python agent side of Ably AI Transport (wire format of @ably/ai-transport 0.8.0).

Plain Python on ably-python: nothing here imports Django, so the transport can be reused
and tested against any Ably endpoint.
"""
