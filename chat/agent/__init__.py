"""The AI agent: the worker that answers conversations, and the LLM providers it calls."""
